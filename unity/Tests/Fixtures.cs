using System;
using System.Collections.Generic;
using System.IO;
using System.Threading.Tasks;
using NUnit.Framework;

namespace LiveML.Tests
{
    /// <summary>The fixtures the Python side writes (tests/unity/fixtures.py), found through LIVEML_UNITY_FIXTURES.</summary>
    public static class Fixtures
    {
        public static string Dir
        {
            get
            {
                string dir = Environment.GetEnvironmentVariable("LIVEML_UNITY_FIXTURES");
                if (string.IsNullOrEmpty(dir) || !Directory.Exists(dir))
                    Assert.Fail("LIVEML_UNITY_FIXTURES must name the directory tests/unity/fixtures.py wrote");
                return dir;
            }
        }

        public static string Text(string relative) { return File.ReadAllText(Path.Combine(Dir, relative)); }
        public static byte[] Bytes(string relative) { return File.ReadAllBytes(Path.Combine(Dir, relative)); }
        public static Dictionary<string, object> Object(string relative) { return Json.ParseObject(Text(relative)); }

        public static string TempDir()
        {
            string d = Path.Combine(Path.GetTempPath(), "liveml-unity-test-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(d);
            return d;
        }
    }

    /// <summary>An in-memory transport: answers by route, records every request (a test double of the
    /// network; the real server is exercised by the end-to-end test).</summary>
    public sealed class FakeTransport : IHttpTransport
    {
        public readonly List<HttpRequest> Requests = new List<HttpRequest>();
        public Func<HttpRequest, HttpResponse> Handler;

        public Task<HttpResponse> SendAsync(HttpRequest request)
        {
            lock (Requests) Requests.Add(request);
            return Task.FromResult(Handler(request));
        }

        public int Count(string urlPart)
        {
            lock (Requests) return Requests.FindAll(r => r.Url.Contains(urlPart)).Count;
        }

        public static HttpResponse Answer(int status, string body)
        {
            return new HttpResponse { Status = status, Bytes = System.Text.Encoding.UTF8.GetBytes(body ?? "") };
        }

        public static HttpResponse Answer(int status, byte[] body)
        {
            return new HttpResponse { Status = status, Bytes = body };
        }

        public static HttpResponse Offline() { return new HttpResponse { Status = 0, Error = "connection refused" }; }
    }
}
