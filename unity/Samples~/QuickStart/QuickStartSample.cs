using System.Collections.Generic;
using LiveML;
using LiveML.Unity;
using UnityEngine;

/// <summary>The quick start: a prediction with its source, an event, a behaviour threshold. Put it on a
/// GameObject with an MLModelManager and a PlayerBehaviorAnalyzer.</summary>
public sealed class QuickStartSample : MonoBehaviour
{
    [SerializeField] private LiveML.Unity.PlayerBehaviorAnalyzer analyzer;

    private async void Start()
    {
        var features = new Dictionary<string, object>
        {
            { "sessions_last_7d", 3 }, { "level", 12 }, { "device", "android" }, { "feedback", "too hard, laggy" },
        };
        PredictResult churn = await MLModelManager.Instance.PredictAsync("churn", "player-42", features);
        if (churn.Ok) Debug.Log("churn: " + churn.Prediction.Label + " from " + churn.Source + " (v" + churn.ModelVersion + ")");
        else Debug.LogWarning("no prediction: " + churn.Error);

        analyzer.TrackPlayerAction("level_complete", new Dictionary<string, object> { { "level", 12 }, { "seconds", 95.5 } });
        analyzer.BehaviorPredicted += e => Debug.Log(e.Behavior + " for " + e.PlayerId + ": " + e.Score.ToString("F2"));
        MLModelManager.Instance.ModelUpdated += e => Debug.Log("model " + e.Model + " is now v" + e.Version);
    }
}
