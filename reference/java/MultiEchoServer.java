import java.net.Socket;

/**
 * EchoServer with the chapter's one change: each session runs on a thread of its own, so a
 * slow or idle client no longer keeps the others waiting.
 */
public class MultiEchoServer {
    private static final String PROGRAM = "MultiEchoServer";

    public static void main(String[] args) {
        EchoServer.run(PROGRAM, args, MultiEchoServer::startSession);
    }

    // guide:start-session begin
    // guide:errors-timeout begin
    private static void startSession(Socket client) {
        new Thread(() -> EchoServer.serve(PROGRAM, client)).start();
    }
    // guide:errors-timeout end
    // guide:start-session end
}
