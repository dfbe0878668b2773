using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using UnityEngine;

namespace LiveML.Unity
{
    /// <summary>The scene's LiveML connection: the API client, and the verified on-device models it keeps
    /// up to date (polled at start and every few minutes). Predictions fall back to the device model.</summary>
    [DisallowMultipleComponent]
    [AddComponentMenu("LiveML/ML Model Manager")]
    public sealed class MLModelManager : MonoBehaviour
    {
        [Header("API")]
        [SerializeField] private string baseUrl = "https://example.execute-api.us-east-1.amazonaws.com/prod";
        [SerializeField] private string apiKey = "";
        [Tooltip("Use UnityWebRequest (WebGL, consoles) instead of System.Net.Http")]
        [SerializeField] private bool useUnityWebRequest = false;

        [Header("On-device models")]
        [SerializeField] private string[] models = { "churn" };
        [Min(1f)] [SerializeField] private float pollMinutes = 15f;
        [Tooltip("Activate a downloaded model at the next session instead of at once")]
        [SerializeField] private bool activateNextSession = false;

        public static MLModelManager Instance { get; private set; }
        public LiveMLClient Client { get; private set; }
        public ModelManager Models { get; private set; }

        /// <summary>Raised on the main thread when a verified model becomes active.</summary>
        public event Action<ModelUpdatedEventArgs> ModelUpdated;

        /// <summary>Configure from code before the component wakes (or set the fields in the inspector).</summary>
        public void Configure(string url, string key, params string[] modelNames)
        {
            baseUrl = url;
            apiKey = key;
            if (modelNames.Length > 0) models = modelNames;
        }

        private void Awake()
        {
            if (Instance != null && Instance != this) { Destroy(this); return; }
            Instance = this;
            DontDestroyOnLoad(gameObject);
            IHttpTransport transport = useUnityWebRequest ? (IHttpTransport)new UnityWebRequestTransport() : new HttpClientTransport();
            Client = new LiveMLClient(new LiveMLClientOptions { BaseUrl = baseUrl, ApiKey = apiKey, Transport = transport });
            Models = new ModelManager(Client, new ModelManagerOptions
            {
                Models = models,
                Directory = Path.Combine(Application.persistentDataPath, "liveml", "models"),
                Activation = activateNextSession ? Activation.NextSession : Activation.Immediately,
                PollInterval = TimeSpan.FromMinutes(pollMinutes),
                Log = message => MainThread.Post(() => Debug.Log(message)),
            });
            Models.ModelUpdated += (sender, e) => MainThread.Post(() => { if (ModelUpdated != null) ModelUpdated(e); });
            Models.LoadFromDisk();
        }

        private void Start() { StartCoroutine(Poll()); }

        private void Update() { MainThread.Pump(); }

        private IEnumerator Poll()
        {
            while (true)
            {
                Task<List<SyncResult>> sync = Task.Run(() => Models.SyncAllAsync());
                yield return new WaitUntil(() => sync.IsCompleted);
                if (sync.IsFaulted) Debug.LogWarning("[LiveML] model sync failed: " + sync.Exception);
                yield return new WaitForSecondsRealtime(pollMinutes * 60f);
            }
        }

        /// <summary>A prediction for one player: from the server, or the device model, or the last answer.</summary>
        public Task<PredictResult> PredictAsync(string model, string playerId, IDictionary<string, object> features)
        {
            return Client.PredictAsync(model, playerId, features);
        }

        private void OnDestroy()
        {
            if (Instance == this) Instance = null;
        }
    }
}
