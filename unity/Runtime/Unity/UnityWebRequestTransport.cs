using System.Text;
using System.Threading.Tasks;
using UnityEngine.Networking;

namespace LiveML.Unity
{
    /// <summary>The core's HTTP seam on UnityWebRequest (WebGL and consoles, where System.Net.Http is not
    /// available). Requests may come from any thread; they are started on the main thread.</summary>
    public sealed class UnityWebRequestTransport : IHttpTransport
    {
        public Task<HttpResponse> SendAsync(HttpRequest request)
        {
            var done = new TaskCompletionSource<HttpResponse>();
            MainThread.Post(() =>
            {
                var web = new UnityWebRequest(request.Url, request.Method) { downloadHandler = new DownloadHandlerBuffer() };
                web.timeout = (int)System.Math.Ceiling(request.Timeout.TotalSeconds);
                if (request.Body != null)
                {
                    web.uploadHandler = new UploadHandlerRaw(Encoding.UTF8.GetBytes(request.Body)) { contentType = request.ContentType };
                    web.SetRequestHeader("Content-Type", request.ContentType);
                }
                foreach (var h in request.Headers) web.SetRequestHeader(h.Key, h.Value);
                web.SendWebRequest().completed += op =>
                {
                    bool answered = web.result == UnityWebRequest.Result.Success || web.result == UnityWebRequest.Result.ProtocolError;
                    var response = answered
                        ? new HttpResponse { Status = (int)web.responseCode, Bytes = web.downloadHandler.data ?? new byte[0] }
                        : new HttpResponse { Status = 0, Error = web.error };
                    web.Dispose();
                    done.TrySetResult(response);
                };
            });
            return done.Task;
        }
    }
}
