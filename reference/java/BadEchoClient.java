import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.Socket;

/**
 * The chapter's BadEchoClient, kept bad on purpose: right for plain ASCII lines, and every
 * error swallowed. Each flaw is marked FLAW where it stands.
 */
public class BadEchoClient {
    public static void main(String[] args) {
        try {
            // FLAW: the arguments are not checked, so a missing host or a bad port ends as the one
            // vague message.
            String host = args[0];
            int port = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
            // FLAW: only the first address the host name resolves to is tried.
            Socket socket = new Socket(InetAddress.getByName(host), port);
            BufferedReader fromServer = new BufferedReader(new InputStreamReader(socket.getInputStream()));
            // FLAW: PrintStream never throws, so a failed send goes unnoticed.
            PrintStream toServer = new PrintStream(socket.getOutputStream());
            // FLAW: stdin is read as text in the platform charset: bytes that are not valid text are
            // replaced, a lone "\r" splits a line in two and "\r\n" loses its "\r".
            BufferedReader console = new BufferedReader(new InputStreamReader(System.in));
            boolean interactive = System.console() != null;
            while (true) {
                if (interactive) {
                    System.out.print("Enter line:");
                }
                String line = console.readLine();
                if (line == null || line.equals("BYE")) {
                    break;
                }
                toServer.println(line);
                // FLAW: one readLine is taken to be the whole echo; if the server has gone it returns
                // null, and the client prints "Echoed: 'null'" and carries on.
                System.out.println("Echoed: '" + fromServer.readLine() + "'");
            }
            // FLAW: the socket is closed only on the happy path; after an exception it is left open.
            socket.close();
        } catch (Exception e) {
            // FLAW: every failure (bad arguments, unknown host, refused, reset) becomes one vague
            // line, on stdout, and the exit status is still 0.
            System.out.println("Oops, that did not work");
        }
    }
}
