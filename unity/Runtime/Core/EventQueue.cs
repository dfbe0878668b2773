// A bounded, durable, append-only event queue in segment files: each event is one JSON line written
// (and handed to the OS) when it is tracked, so a killed game loses nothing it tracked; delivered
// events are skipped by a small cursor file rewritten once per delivered batch, never per event.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;

namespace LiveML
{
    public sealed class EventQueueOptions
    {
        public string Directory;
        /// <summary>A new segment file starts past this size.</summary>
        public long SegmentBytes = 256 * 1024;
        /// <summary>Past this total size the oldest segments are dropped (and counted in <see cref="EventQueue.Dropped"/>).</summary>
        public long MaxBytes = 8 * 1024 * 1024;
    }

    /// <summary>Events taken from the head of the queue, to be committed once the server has answered.</summary>
    public sealed class EventBatch
    {
        public readonly List<string> Lines = new List<string>();
        internal int StartSegment;
        internal int EndSegment;
        internal long EndOffset;
        public int Count { get { return Lines.Count; } }
    }

    public sealed class EventQueue : IDisposable
    {
        private const string CursorFile = "cursor.json";
        private readonly EventQueueOptions _o;
        private readonly object _lock = new object();
        private readonly List<int> _segments = new List<int>();
        private FileStream _tail;
        // The tail's length, kept here: asking the FileStream costs a system call per event.
        private long _tailBytes;
        private int _tailSegment;
        private int _headSegment;
        private long _headOffset;
        private long _dropped;
        private long _nextSequence;
        private long _pending;
        private long _bytes;

        public EventQueue(EventQueueOptions options)
        {
            if (options == null || string.IsNullOrEmpty(options.Directory)) throw new ArgumentException("Directory is required", "options");
            _o = options;
            // Room for at least four segments under the cap, so the oldest can go while the newest is written.
            if (_o.MaxBytes < 4 * _o.SegmentBytes) _o.SegmentBytes = Math.Max(1024, _o.MaxBytes / 4);
            System.IO.Directory.CreateDirectory(_o.Directory);
            Open();
        }

        /// <summary>Events dropped because the queue was full (oldest first), over the queue's lifetime.</summary>
        public long Dropped { get { lock (_lock) return _dropped; } }
        /// <summary>Events tracked and not yet delivered.</summary>
        public long Pending { get { lock (_lock) return _pending; } }
        public long Bytes { get { lock (_lock) return _bytes; } }

        /// <summary>The next client sequence number (persisted across sessions).</summary>
        public long NextSequence() { lock (_lock) return _nextSequence++; }

        private string SegmentPath(int n) { return Path.Combine(_o.Directory, "events-" + n.ToString("D8", CultureInfo.InvariantCulture) + ".jsonl"); }

        private void Open()
        {
            foreach (string f in System.IO.Directory.GetFiles(_o.Directory, "events-*.jsonl"))
            {
                int n;
                string stem = Path.GetFileNameWithoutExtension(f).Substring("events-".Length);
                if (int.TryParse(stem, NumberStyles.None, CultureInfo.InvariantCulture, out n)) _segments.Add(n);
            }
            _segments.Sort();
            string cursorPath = Path.Combine(_o.Directory, CursorFile);
            if (File.Exists(cursorPath))
            {
                try
                {
                    var c = Json.ParseObject(File.ReadAllText(cursorPath, Encoding.UTF8));
                    _headSegment = (int)Json.GetDouble(c, "segment", 0);
                    _headOffset = (long)Json.GetDouble(c, "offset", 0);
                    _dropped = (long)Json.GetDouble(c, "dropped", 0);
                    _nextSequence = (long)Json.GetDouble(c, "next_sequence", 0);
                }
                catch (JsonException) { /* an unreadable cursor: resend from the oldest segment (the server drops duplicates) */ }
            }
            // Segments before the cursor were delivered; a cursor into a dropped segment starts at the oldest one.
            while (_segments.Count > 0 && _segments[0] < _headSegment) { File.Delete(SegmentPath(_segments[0])); _segments.RemoveAt(0); }
            if (_segments.Count == 0 || _segments[0] != _headSegment) { _headSegment = _segments.Count > 0 ? _segments[0] : Math.Max(_headSegment, 1); _headOffset = 0; }
            foreach (int n in _segments)
            {
                long from = n == _headSegment ? _headOffset : 0;
                foreach (string line in ReadLines(n, from, int.MaxValue))
                {
                    _pending++;
                    long seq = SequenceOf(line);
                    if (seq >= _nextSequence) _nextSequence = seq + 1;
                }
                _bytes += new FileInfo(SegmentPath(n)).Length;
            }
            _tailSegment = _segments.Count > 0 ? _segments[_segments.Count - 1] : _headSegment;
            OpenTail();
        }

        private void OpenTail()
        {
            if (!_segments.Contains(_tailSegment)) _segments.Add(_tailSegment);
            _tail = new FileStream(SegmentPath(_tailSegment), FileMode.Append, FileAccess.Write, FileShare.ReadWrite, 4096);
            // A kill in the middle of a write leaves a torn last line: end it, so the next event starts clean.
            _tailBytes = _tail.Length;
            if (_tailBytes > 0)
            {
                using (var r = new FileStream(SegmentPath(_tailSegment), FileMode.Open, FileAccess.Read, FileShare.ReadWrite))
                {
                    r.Seek(-1, SeekOrigin.End);
                    if (r.ReadByte() != '\n') { _tail.WriteByte((byte)'\n'); _tail.Flush(); _bytes++; _tailBytes++; }
                }
            }
        }

        private static long SequenceOf(string line)
        {
            int i = line.IndexOf("\"sequence\":", StringComparison.Ordinal);
            if (i < 0) return -1;
            i += 11;
            long v = 0;
            while (i < line.Length && line[i] >= '0' && line[i] <= '9') v = v * 10 + (line[i++] - '0');
            return v;
        }

        /// <summary>Appends one event (a JSON object on one line) and hands it to the OS before returning.</summary>
        public void Append(string jsonLine)
        {
            if (jsonLine.IndexOf('\n') >= 0) throw new ArgumentException("an event must be one line of JSON", "jsonLine");
            byte[] bytes = Encoding.UTF8.GetBytes(jsonLine + "\n");
            lock (_lock)
            {
                if (_tailBytes > 0 && _tailBytes + bytes.Length > _o.SegmentBytes)
                {
                    _tail.Dispose();
                    _tailSegment++;
                    OpenTail();
                }
                _tail.Write(bytes, 0, bytes.Length);
                _tail.Flush();
                _tailBytes += bytes.Length;
                _pending++;
                _bytes += bytes.Length;
                EnforceCap();
            }
        }

        private void EnforceCap()
        {
            // Drop whole segments, oldest first, never the one being written.
            while (_bytes > _o.MaxBytes && _segments.Count > 1)
            {
                int oldest = _segments[0];
                long from = oldest == _headSegment ? _headOffset : 0;
                int lost = 0;
                foreach (string unused in ReadLines(oldest, from, int.MaxValue)) lost++;
                _bytes -= new FileInfo(SegmentPath(oldest)).Length;
                File.Delete(SegmentPath(oldest));
                _segments.RemoveAt(0);
                _dropped += lost;
                _pending -= lost;
                _headSegment = _segments[0];
                _headOffset = 0;
                WriteCursor();
            }
        }

        /// <summary>Up to <paramref name="max"/> of the oldest undelivered events, in order.</summary>
        public EventBatch Peek(int max)
        {
            lock (_lock)
            {
                var batch = new EventBatch { StartSegment = _headSegment, EndSegment = _headSegment, EndOffset = _headOffset };
                foreach (int n in _segments)
                {
                    if (n < _headSegment) continue;
                    var lines = ReadLines(n, n == _headSegment ? _headOffset : 0, max - batch.Count);
                    batch.Lines.AddRange(lines);
                    batch.EndSegment = n;
                    batch.EndOffset = _lastEnd;
                    if (batch.Count >= max) break;
                }
                return batch;
            }
        }

        /// <summary>Marks a peeked batch delivered (accepted, duplicate or rejected): it is never sent again.</summary>
        public void Commit(EventBatch batch)
        {
            lock (_lock)
            {
                if (batch.Count == 0) return;
                if (batch.EndSegment < _headSegment) return; // dropped meanwhile by the size cap
                bool partlyDropped = batch.StartSegment < _headSegment;
                _pending -= batch.Count;
                _headSegment = batch.EndSegment;
                _headOffset = batch.EndOffset;
                while (_segments.Count > 1 && _segments[0] < _headSegment)
                {
                    _bytes -= new FileInfo(SegmentPath(_segments[0])).Length;
                    File.Delete(SegmentPath(_segments[0]));
                    _segments.RemoveAt(0);
                }
                // The tail segment fully delivered: start a fresh one so the file does not grow forever.
                if (_headSegment == _tailSegment && _headOffset >= _tailBytes)
                {
                    _tail.Dispose();
                    _bytes -= new FileInfo(SegmentPath(_tailSegment)).Length;
                    File.Delete(SegmentPath(_tailSegment));
                    _segments.Remove(_tailSegment);
                    _tailSegment++;
                    _headSegment = _tailSegment;
                    _headOffset = 0;
                    OpenTail();
                }
                if (partlyDropped) _pending = CountFromHead(); // some of the batch were already counted as dropped
                WriteCursor();
            }
        }

        private long CountFromHead()
        {
            long n = 0;
            foreach (int seg in _segments)
                if (seg >= _headSegment) n += ReadLines(seg, seg == _headSegment ? _headOffset : 0, int.MaxValue).Count;
            return n;
        }

        private void WriteCursor()
        {
            var c = new Dictionary<string, object>
            {
                { "segment", _headSegment }, { "offset", _headOffset }, { "dropped", _dropped }, { "next_sequence", _nextSequence },
            };
            ModelManager.AtomicWrite(Path.Combine(_o.Directory, CursorFile), Encoding.UTF8.GetBytes(Json.Serialize(c)));
        }

        private long _lastEnd;

        /// <summary>Complete lines of segment n from byte <paramref name="from"/>; a torn or unreadable line is skipped.
        /// Sets <see cref="_lastEnd"/> to the byte after the last line read.</summary>
        private List<string> ReadLines(int n, long from, int max)
        {
            var lines = new List<string>();
            _lastEnd = from;
            string path = SegmentPath(n);
            if (!File.Exists(path) || max <= 0) return lines;
            byte[] buf;
            using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            {
                long length = fs.Length;
                if (from >= length) return lines;
                fs.Seek(from, SeekOrigin.Begin);
                buf = new byte[length - from]; // a segment is small (SegmentBytes): read the rest at once
                int got = 0;
                while (got < buf.Length)
                {
                    int read = fs.Read(buf, got, buf.Length - got);
                    if (read <= 0) break;
                    got += read;
                }
                if (got < buf.Length) Array.Resize(ref buf, got);
            }
            int lineStart = 0;
            for (int i = 0; i < buf.Length && lines.Count < max; i++)
            {
                if (buf[i] != (byte)'\n') continue;
                _lastEnd = from + i + 1;
                // A torn line (a kill mid-write, then a newline added at reopen) is skipped, not sent.
                if (i - lineStart > 1 && buf[lineStart] == (byte)'{' && buf[i - 1] == (byte)'}')
                    lines.Add(Encoding.UTF8.GetString(buf, lineStart, i - lineStart));
                lineStart = i + 1;
            }
            return lines;
        }

        public void Dispose()
        {
            lock (_lock)
            {
                if (_tail != null) _tail.Dispose();
                _tail = null;
            }
        }
    }
}
