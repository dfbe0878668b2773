using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using UnityEngine;
using Core = LiveML;

namespace LiveML.Unity
{
    [Serializable]
    public sealed class BehaviorThresholdSetting
    {
        public string behavior = "churn_risk";
        public string model = "churn";
        public string predictedClass = "1";
        public float threshold = 0.7f;
    }

    /// <summary>Tracks player actions into a durable on-disk queue and sends them to /events by size, by
    /// interval, on pause and on quit, off the main thread; raises behaviour predictions.</summary>
    [DisallowMultipleComponent]
    [AddComponentMenu("LiveML/Player Behavior Analyzer")]
    public sealed class PlayerBehaviorAnalyzer : MonoBehaviour
    {
        [SerializeField] private MLModelManager modelManager;
        [SerializeField] private string game = "";
        [Tooltip("Empty: the device's identifier")]
        [SerializeField] private string playerId = "";
        [Min(1f)] [SerializeField] private float flushSeconds = 10f;
        [Min(1f)] [SerializeField] private int flushAtCount = 50;
        [Min(1f)] [SerializeField] private float maxQueueMegabytes = 8f;
        [SerializeField] private BehaviorThresholdSetting[] thresholds = new BehaviorThresholdSetting[0];

        public Core.PlayerBehaviorAnalyzer Analyzer { get; private set; }

        /// <summary>Raised on the main thread when a behaviour prediction crosses its threshold.</summary>
        public event Action<BehaviorEventArgs> BehaviorPredicted;

        private void Start()
        {
            MLModelManager manager = modelManager != null ? modelManager : MLModelManager.Instance;
            if (manager == null || manager.Client == null) { Debug.LogError("[LiveML] PlayerBehaviorAnalyzer needs an MLModelManager"); enabled = false; return; }
            Analyzer = new Core.PlayerBehaviorAnalyzer(manager.Client, new PlayerBehaviorOptions
            {
                Game = string.IsNullOrEmpty(game) ? null : game,
                PlayerId = string.IsNullOrEmpty(playerId) ? SystemInfo.deviceUniqueIdentifier : playerId,
                FlushAtCount = flushAtCount,
                FlushInterval = TimeSpan.FromSeconds(flushSeconds),
                Queue = new EventQueueOptions
                {
                    Directory = Path.Combine(Application.persistentDataPath, "liveml", "events"),
                    MaxBytes = (long)(maxQueueMegabytes * 1024 * 1024),
                },
                Log = message => MainThread.Post(() => Debug.Log(message)),
            });
            foreach (BehaviorThresholdSetting t in thresholds)
                Analyzer.AddThreshold(new BehaviorThreshold { Behavior = t.behavior, Model = t.model, Class = string.IsNullOrEmpty(t.predictedClass) ? null : t.predictedClass, Threshold = t.threshold });
            Analyzer.BehaviorPredicted += (sender, e) => MainThread.Post(() => { if (BehaviorPredicted != null) BehaviorPredicted(e); });
        }

        /// <summary>Records one action (written to disk before it returns; sent later, off the main thread).</summary>
        public string TrackPlayerAction(string type, IDictionary<string, object> properties = null)
        {
            return Analyzer == null ? null : Analyzer.TrackPlayerAction(type, properties);
        }

        /// <summary>Predicts the configured behaviours; crossings arrive as <see cref="BehaviorPredicted"/>.</summary>
        public Task<List<PredictResult>> PredictBehaviorsAsync(IDictionary<string, object> features)
        {
            return Analyzer.PredictBehaviorsAsync(features);
        }

        private void Update()
        {
            MainThread.Pump();
            if (Analyzer != null) Analyzer.Tick();
        }

        private void OnApplicationPause(bool paused)
        {
            if (paused && Analyzer != null) Analyzer.FlushInBackground();
        }

        private void OnApplicationQuit()
        {
            // Whatever does not make it out now is on disk and goes at the next session.
            if (Analyzer != null) Analyzer.FlushInBackground().Wait(TimeSpan.FromSeconds(1));
        }

        private void OnDestroy()
        {
            if (Analyzer != null) Analyzer.Dispose();
        }
    }
}
