// LocalStack always starts DynamoDB Local with -javaagent:ddb-local-loader-0.1.jar, an agent whose
// only purpose upstream is raising the 20-GSI limit. We build this no-op stand-in at set-up instead
// of downloading it, so DynamoDB works offline.
package liveml;

import java.lang.instrument.Instrumentation;

public final class NoopAgent {
    private NoopAgent() {}

    public static void premain(String args, Instrumentation instrumentation) {}

    public static void agentmain(String args, Instrumentation instrumentation) {}
}
