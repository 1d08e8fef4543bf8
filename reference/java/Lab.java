import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.StringJoiner;

/**
 * Plumbing shared by the programs in this directory, not part of the chapter: the lab's
 * command lines (conformance/CONTRACT.md) and its way of writing host:port.
 */
final class Lab {
    static final int DEFAULT_PORT = 2000;

    record ServerOptions(String host, int port) {}

    record ClientOptions(boolean raw, String host, int port) {}

    private Lab() {}

    /** {@code [--host HOST] [--port PORT]}; a usage text and exit 2 for anything else. */
    static ServerOptions serverOptions(String program, String[] args) {
        String usage = "usage: java " + program + " [--host HOST] [--port PORT]";
        String host = "::";
        int port = DEFAULT_PORT;
        for (int i = 0; i < args.length; i += 2) {
            boolean known = args[i].equals("--host") || args[i].equals("--port");
            if (!known || i + 1 == args.length) {
                usageError(usage);
            }
            if (args[i].equals("--host")) {
                host = args[i + 1];
            } else {
                port = port(args[i + 1], usage);
            }
        }
        if (host.isEmpty()) {
            usageError(usage);
        }
        return new ServerOptions(host, port);
    }

    /** {@code [--raw] HOST [PORT]}; a usage text and exit 2 for anything else. */
    static ClientOptions clientOptions(String program, String[] args) {
        String usage = "usage: java " + program + " [--raw] HOST [PORT]";
        boolean raw = args.length > 0 && args[0].equals("--raw");
        int first = raw ? 1 : 0;
        int count = args.length - first;
        if (count < 1 || count > 2 || args[first].isEmpty() || args[first].startsWith("-")) {
            usageError(usage);
        }
        int port = count == 2 ? port(args[first + 1], usage) : DEFAULT_PORT;
        return new ClientOptions(raw, args[first], port);
    }

    /** host:port with brackets around an IPv6 host: {@code [::1]:2000}. */
    static String hostPort(String host, int port) {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }

    /** The same for an address, with IPv6 in its short form ("::", where Java writes "0:0:0:0:0:0:0:0"). */
    static String hostPort(InetAddress address, int port) {
        String host = address instanceof Inet6Address
                ? shortIpv6(address.getAddress())
                : address.getHostAddress();
        return hostPort(host, port);
    }

    /** The system's reason for a failure, without the host name UnknownHostException puts first. */
    static String reason(IOException e) {
        String message = String.valueOf(e.getMessage());
        if (!(e instanceof UnknownHostException)) {
            return message;
        }
        int colon = message.lastIndexOf(": ");
        return colon < 0 ? "unknown host" : message.substring(colon + 2);
    }

    private static int port(String text, String usage) {
        // Digits only: Integer.parseInt alone would also take "+80" and non-ASCII digits.
        if (!text.matches("[0-9]{1,5}") || Integer.parseInt(text) > 65535) {
            usageError(usage);
        }
        return Integer.parseInt(text);
    }

    private static void usageError(String usage) {
        System.err.println(usage);
        System.exit(2);
    }

    // RFC 5952: hex groups without leading zeros; the first longest run of two or more
    // zero groups becomes "::".
    private static String shortIpv6(byte[] bytes) {
        int[] groups = new int[8];
        for (int i = 0; i < 8; i++) {
            groups[i] = (bytes[2 * i] & 0xff) << 8 | (bytes[2 * i + 1] & 0xff);
        }
        int runStart = -1;
        int runLength = 1;
        for (int i = 0, zeros = 0; i < 8; i++) {
            zeros = groups[i] == 0 ? zeros + 1 : 0;
            if (zeros > runLength) {
                runLength = zeros;
                runStart = i - zeros + 1;
            }
        }
        if (runStart < 0) {
            return join(groups, 0, 8);
        }
        return join(groups, 0, runStart) + "::" + join(groups, runStart + runLength, 8);
    }

    private static String join(int[] groups, int from, int to) {
        StringJoiner joined = new StringJoiner(":");
        for (int i = from; i < to; i++) {
            joined.add(Integer.toHexString(groups[i]));
        }
        return joined.toString();
    }
}
