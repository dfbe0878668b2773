using System;
using System.Collections.Generic;

namespace LiveML.Unity
{
    /// <summary>Work that must run on Unity's main thread (UnityWebRequest, game callbacks), posted from
    /// any thread and run by the package's components in their Update.</summary>
    public static class MainThread
    {
        private static readonly Queue<Action> Pending = new Queue<Action>();

        public static void Post(Action action)
        {
            lock (Pending) Pending.Enqueue(action);
        }

        /// <summary>Runs what was posted; called once per frame.</summary>
        public static void Pump()
        {
            while (true)
            {
                Action next;
                lock (Pending)
                {
                    if (Pending.Count == 0) return;
                    next = Pending.Dequeue();
                }
                try { next(); }
                catch (Exception e) { UnityEngine.Debug.LogError("[LiveML] " + e); }
            }
        }
    }
}
