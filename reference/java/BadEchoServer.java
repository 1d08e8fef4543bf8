import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * The chapter's BadEchoServer, kept bad on purpose: readable, right for short ASCII lines,
 * and every error let through. Each flaw is marked FLAW where it stands.
 */
public class BadEchoServer {
    // FLAW: main passes every exception on, so one client's timeout or reset stops the whole server.
    public static void main(String[] args) throws Exception {
        Lab.ServerOptions options = Lab.serverOptions("BadEchoServer", args);
        ServerSocket listener = new ServerSocket(options.port(), 50, InetAddress.getByName(options.host()));
        System.out.println("listening on " + Lab.hostPort(listener.getInetAddress(), listener.getLocalPort()));
        while (true) {
            Socket client = listener.accept();
            // FLAW: a client that stays quiet for 10 s makes readLine throw SocketTimeoutException,
            // which nothing catches: the server stops.
            client.setSoTimeout(10_000);
            serveClient(client);
        }
    }

    static void serveClient(Socket client) throws Exception {
        // FLAW: a Reader decodes the bytes as text in the platform charset, so bytes that are not
        // valid text (any byte above 127 in a C locale) come back changed.
        BufferedReader reader = new BufferedReader(new InputStreamReader(client.getInputStream()));
        // FLAW: PrintStream never throws, so a failed write to a vanished client goes unnoticed.
        PrintStream writer = new PrintStream(client.getOutputStream());
        String line;
        // FLAW: readLine ends a line at "\n", "\r\n" or a lone "\r" and println writes "\n", so
        // line ends are rewritten and a last line without one gains a "\n".
        while ((line = reader.readLine()) != null) {
            writer.println(line);
            // FLAW: the BYE test trims the line, so "  BYE\t" ends the session as well.
            if (line.trim().equals("BYE")) {
                break;
            }
        }
        // FLAW: the socket is closed outside a finally block, so it stays open when the session throws.
        client.close();
    }
}
