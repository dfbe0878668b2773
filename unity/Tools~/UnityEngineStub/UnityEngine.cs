// CI only: the slice of UnityEngine's API the package's wrappers use, so that they are type-checked
// without Unity. Signatures follow Unity 2021.3+; bodies do nothing useful. Never shipped.
using System;
using System.Collections;

namespace UnityEngine
{
    public class Object
    {
        public string name;
        public static void DontDestroyOnLoad(Object target) { }
        public static void Destroy(Object obj) { }
    }

    public class Component : Object
    {
        public GameObject gameObject { get { return null; } }
        public T GetComponent<T>() { return default(T); }
    }

    public class Behaviour : Component
    {
        public bool enabled { get; set; }
    }

    public class Coroutine { }

    public class MonoBehaviour : Behaviour
    {
        public Coroutine StartCoroutine(IEnumerator routine) { return new Coroutine(); }
        public void StopCoroutine(Coroutine routine) { }
        public void StopAllCoroutines() { }
    }

    public sealed class GameObject : Object
    {
        public GameObject() { }
        public GameObject(string name) { this.name = name; }
        public T AddComponent<T>() where T : Component, new() { return new T(); }
        public T GetComponent<T>() { return default(T); }
    }

    public class YieldInstruction { }
    public class CustomYieldInstruction : IEnumerator
    {
        public virtual bool keepWaiting { get { return false; } }
        public object Current { get { return null; } }
        public bool MoveNext() { return keepWaiting; }
        public void Reset() { }
    }

    public class AsyncOperation : YieldInstruction
    {
        public bool isDone { get { return true; } }
        public event Action<AsyncOperation> completed;
        internal void Complete() { if (completed != null) completed(this); }
    }

    public sealed class WaitForSeconds : YieldInstruction { public WaitForSeconds(float seconds) { } }
    public sealed class WaitForSecondsRealtime : CustomYieldInstruction { public WaitForSecondsRealtime(float time) { } }
    public sealed class WaitUntil : CustomYieldInstruction { public WaitUntil(Func<bool> predicate) { } }

    public static class Debug
    {
        public static void Log(object message) { }
        public static void LogWarning(object message) { }
        public static void LogError(object message) { }
    }

    public static class Application
    {
        public static string persistentDataPath { get { return System.IO.Path.GetTempPath(); } }
        public static string version { get { return "0.0.0"; } }
        public static bool isPlaying { get { return false; } }
        public static event Action quitting;
        internal static void Quit() { if (quitting != null) quitting(); }
    }

    public static class SystemInfo
    {
        public static string deviceUniqueIdentifier { get { return "stub-device"; } }
    }

    public static class Time
    {
        public static float unscaledTime { get { return 0f; } }
        public static float deltaTime { get { return 0f; } }
    }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class SerializeField : Attribute { }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class HeaderAttribute : Attribute { public HeaderAttribute(string header) { } }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class TooltipAttribute : Attribute { public TooltipAttribute(string tooltip) { } }

    [AttributeUsage(AttributeTargets.Field)]
    public sealed class MinAttribute : Attribute { public MinAttribute(float min) { } }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class DisallowMultipleComponent : Attribute { }

    [AttributeUsage(AttributeTargets.Class)]
    public sealed class AddComponentMenu : Attribute { public AddComponentMenu(string menuName) { } }
}

namespace UnityEngine.Networking
{
    public class DownloadHandler : IDisposable
    {
        public byte[] data { get { return new byte[0]; } }
        public string text { get { return ""; } }
        public void Dispose() { }
    }

    public sealed class DownloadHandlerBuffer : DownloadHandler { }

    public class UploadHandler : IDisposable
    {
        public string contentType { get; set; }
        public void Dispose() { }
    }

    public sealed class UploadHandlerRaw : UploadHandler { public UploadHandlerRaw(byte[] data) { } }

    public sealed class UnityWebRequestAsyncOperation : AsyncOperation
    {
        public UnityWebRequest webRequest { get { return null; } }
    }

    public sealed class UnityWebRequest : IDisposable
    {
        public enum Result { InProgress, Success, ConnectionError, ProtocolError, DataProcessingError }

        public UnityWebRequest(string url, string method) { this.url = url; this.method = method; }
        public string url { get; set; }
        public string method { get; set; }
        public int timeout { get; set; }
        public long responseCode { get { return 0; } }
        public Result result { get { return Result.ConnectionError; } }
        public string error { get { return "stub"; } }
        public DownloadHandler downloadHandler { get; set; }
        public UploadHandler uploadHandler { get; set; }
        public void SetRequestHeader(string name, string value) { }
        public UnityWebRequestAsyncOperation SendWebRequest() { return new UnityWebRequestAsyncOperation(); }
        public void Dispose() { }
    }
}
