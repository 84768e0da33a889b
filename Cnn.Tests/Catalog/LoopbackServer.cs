using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Cnn.Tests.Catalog;

/// <summary>
/// An HTTP server on 127.0.0.1 for download tests: serves the files it was given under <c>/models/NAME</c>, answers
/// 404 for anything else, and counts requests. Optionally holds every response until a number of requests have
/// arrived, so that concurrent downloads really overlap.
/// </summary>
public sealed class LoopbackServer : IDisposable
{
    /// <summary>How the test server answers a request for a file.</summary>
    public enum Serving
    {
        /// <summary>The whole file, with its Content-Length.</summary>
        Whole,

        /// <summary>The full Content-Length announced, half the bytes sent, then the connection dropped.</summary>
        CutShort,
    }

    readonly HttpListener listener = new();
    readonly ConcurrentDictionary<string, (byte[] Bytes, Serving Mode)> files = new();
    readonly Thread loop;
    readonly CountdownEvent? gate;
    int requests;

    /// <param name="holdUntilRequests">Answer nothing until this many requests have arrived (at most 30 s).</param>
    public LoopbackServer(int holdUntilRequests = 0)
    {
        Port = FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        if (holdUntilRequests > 0) gate = new CountdownEvent(holdUntilRequests);
        loop = new Thread(Serve) { IsBackground = true, Name = "loopback server" };
        loop.Start();
    }

    public int Port { get; }

    /// <summary>The base URL the files are under, with a trailing slash.</summary>
    public string BaseUrl => $"http://127.0.0.1:{Port}/models/";

    /// <summary>Requests received so far.</summary>
    public int Requests => Volatile.Read(ref requests);

    public void Add(string name, byte[] bytes, Serving mode = Serving.Whole) => files[name] = (bytes, mode);

    /// <summary>A port nothing listens on (bound, then released).</summary>
    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }

    void Serve()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = listener.GetContext();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;   // stopped
            }
            Interlocked.Increment(ref requests);
            ThreadPool.QueueUserWorkItem(_ => Answer(context));
        }
    }

    void Answer(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            if (gate is not null)
            {
                gate.Signal();
                gate.Wait(TimeSpan.FromSeconds(30));
            }
            string path = context.Request.Url!.AbsolutePath;
            if (!path.StartsWith("/models/", StringComparison.Ordinal) || !files.TryGetValue(path["/models/".Length..], out var file))
            {
                response.StatusCode = 404;
                response.Close();
                return;
            }
            response.ContentLength64 = file.Bytes.Length;
            if (file.Mode == Serving.Whole)
            {
                // In pieces, so the client reads (and reports progress) more than once.
                for (int offset = 0; offset < file.Bytes.Length; offset += 4096)
                    response.OutputStream.Write(file.Bytes, offset, Math.Min(4096, file.Bytes.Length - offset));
                response.Close();
            }
            else
            {
                response.OutputStream.Write(file.Bytes, 0, file.Bytes.Length / 2);
                response.OutputStream.Flush();
                response.Abort();
            }
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The client went away; nothing to answer.
        }
    }

    public void Dispose()
    {
        if (listener.IsListening) listener.Stop();
        listener.Close();
        loop.Join(TimeSpan.FromSeconds(5));
        gate?.Dispose();
    }
}
