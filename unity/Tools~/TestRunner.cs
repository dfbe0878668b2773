// A console runner for the package's NUnit tests outside Unity: finds [TestFixture] classes and their
// [Test] / [TestCase] methods by reflection, runs [SetUp] / [TearDown] around each, and prints
// "N passed, N failed, N skipped" on its own line; the exit code is 1 when anything failed.
using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading.Tasks;
using NUnit.Framework;

public static class TestRunner
{
    public static int Main(string[] args)
    {
        if (args.Length < 1) { Console.Error.WriteLine("usage: TestRunner.exe <tests.dll> [name filter]"); return 2; }
        Assembly asm = Assembly.LoadFrom(args[0]);
        string filter = args.Length > 1 ? args[1] : null;
        int passed = 0, failed = 0, skipped = 0;
        foreach (Type type in asm.GetTypes().Where(t => t.GetCustomAttributes(typeof(TestFixtureAttribute), true).Length > 0).OrderBy(t => t.FullName))
        {
            MethodInfo[] methods = type.GetMethods(BindingFlags.Public | BindingFlags.Instance);
            MethodInfo setUp = methods.FirstOrDefault(m => m.GetCustomAttributes(typeof(SetUpAttribute), true).Length > 0);
            MethodInfo tearDown = methods.FirstOrDefault(m => m.GetCustomAttributes(typeof(TearDownAttribute), true).Length > 0);
            foreach (MethodInfo method in methods.OrderBy(m => m.MetadataToken))
            {
                var cases = new List<object[]>();
                foreach (TestCaseAttribute tc in method.GetCustomAttributes(typeof(TestCaseAttribute), true)) cases.Add(tc.Arguments);
                bool isTest = method.GetCustomAttributes(typeof(TestAttribute), true).Length > 0;
                if (!isTest && cases.Count == 0) continue;
                if (cases.Count == 0) cases.Add(new object[0]);
                foreach (object[] arguments in cases)
                {
                    string name = type.Name + "." + method.Name + (arguments.Length > 0 ? "(" + string.Join(", ", arguments.Select(a => a == null ? "null" : a.ToString()).ToArray()) + ")" : "");
                    if (filter != null && name.IndexOf(filter, StringComparison.OrdinalIgnoreCase) < 0) continue;
                    if (method.GetCustomAttributes(typeof(IgnoreAttribute), true).Length > 0) { skipped++; Console.WriteLine("SKIP " + name); continue; }
                    object fixture = Activator.CreateInstance(type);
                    DateTime started = DateTime.UtcNow;
                    try
                    {
                        if (setUp != null) Invoke(setUp, fixture, new object[0]);
                        try { Invoke(method, fixture, Convert(arguments, method.GetParameters())); }
                        finally { if (tearDown != null) Invoke(tearDown, fixture, new object[0]); }
                        passed++;
                        Console.WriteLine("PASS " + name + " (" + (int)(DateTime.UtcNow - started).TotalMilliseconds + " ms)");
                    }
                    catch (Exception e)
                    {
                        Exception inner = Unwrap(e);
                        if (inner is IgnoreException || inner is InconclusiveException) { skipped++; Console.WriteLine("SKIP " + name + ": " + inner.Message); continue; }
                        failed++;
                        Console.WriteLine("FAIL " + name + ": " + inner.GetType().Name + ": " + inner.Message);
                        Console.WriteLine(inner.StackTrace);
                    }
                }
            }
        }
        Console.WriteLine(passed + " passed, " + failed + " failed, " + skipped + " skipped");
        return failed > 0 || passed == 0 ? 1 : 0;
    }

    private static void Invoke(MethodInfo m, object target, object[] args)
    {
        object r = m.Invoke(target, args);
        var task = r as Task;
        if (task != null) task.GetAwaiter().GetResult();
    }

    private static object[] Convert(object[] args, ParameterInfo[] ps)
    {
        var outp = new object[args.Length];
        for (int i = 0; i < args.Length; i++)
            outp[i] = args[i] == null || ps[i].ParameterType.IsInstanceOfType(args[i]) ? args[i] : System.Convert.ChangeType(args[i], ps[i].ParameterType, System.Globalization.CultureInfo.InvariantCulture);
        return outp;
    }

    private static Exception Unwrap(Exception e)
    {
        while ((e is TargetInvocationException || e is AggregateException) && e.InnerException != null) e = e.InnerException;
        return e;
    }
}
