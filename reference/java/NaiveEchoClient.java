import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.Socket;

/**
 * Deliberately naive: the echo client as the Java tutorial shows it (Socket, PrintWriter,
 * BufferedReader), with main declaring {@code throws IOException} and nothing caught. Right for
 * short ASCII lines to a healthy server. Flaws, each marked NAIVE where it stands: a refused
 * connection is a stack trace; PrintWriter hides a failed send; a closed server reads as the echo
 * 'null'; Readers decode in the platform charset and split at a lone CR. EchoClient is the careful
 * version.
 */
public class NaiveEchoClient {
    // NAIVE: checked exceptions must be caught or declared, and declaring them is all this does:
    // whatever goes wrong leaves main as a stack trace.
    public static void main(String[] args) throws IOException {
        String host = args[0];
        int port = args.length > 1 ? Integer.parseInt(args[1]) : 2000;
        // NAIVE: refused or unknown host throws out of main: a stack trace.
        Socket socket = new Socket(host, port);
        // NAIVE: PrintWriter never throws: a send that fails goes unnoticed.
        PrintWriter out = new PrintWriter(socket.getOutputStream(), true);
        // NAIVE: Readers decode bytes in the platform charset (bytes that are not valid text come
        // back changed), and readLine ends a line at a lone "\r" too.
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream()));
        BufferedReader stdIn = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = stdIn.readLine()) != null && !line.equals("BYE")) {
            out.println(line);
            // NAIVE: readLine returns null once the server has closed, printed as the echo 'null';
            // the loop goes on.
            System.out.println("Echoed: '" + in.readLine() + "'");
        }
        socket.close();
    }
}
