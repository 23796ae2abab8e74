package edms.infra;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * One real OpenSearch node, its modules loaded from the classpath (Maven Central has the core and
 * the modules as jars, but no server distribution).
 *
 * <p>Usage: {@code OpenSearchNode <home> <name> <http-port> <transport-port> <cluster-name>
 * <seed-transport-ports> <initial-cluster-manager-names>} — the last two comma-separated; a
 * single node with no seeds runs as {@code discovery.type: single-node}. Data and logs go under
 * {@code <home>}; everything listens on 127.0.0.1 only. The node runs until the process is
 * stopped (SIGTERM closes it cleanly).
 */
public final class OpenSearchNode {

    /**
     * The modules edms's mappings and queries need: HTTP and transport, the analyzers, and k-NN
     * (the similar-documents vectors with `EDMS_SIMILARITY_VECTORS=search`; its Lucene engine only).
     * k-NN comes as a zip, not a jar Maven can compile against: it is named, and found on the
     * classpath (target/knn) at start.
     */
    private static final List<String> MODULES = List.of(
            Netty4Plugin.class.getName(),
            CommonAnalysisPlugin.class.getName(),
            "org.opensearch.knn.plugin.KNNPlugin");

    /** Node's plugin-taking constructor is protected: it is how OpenSearch's own test nodes start. */
    private static final class ClasspathNode extends Node {
        ClasspathNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: OpenSearchNode HOME NAME HTTP_PORT TRANSPORT_PORT CLUSTER SEEDS MANAGERS");
            System.exit(2);
        }
        Path home = Path.of(args[0]).toAbsolutePath();
        String name = args[1];
        String seeds = args[5];
        Files.createDirectories(home.resolve("config"));
        Settings.Builder settings = Settings.builder()
                .put("path.home", home.toString())
                .put("path.data", home.resolve("data").toString())
                .put("path.logs", home.resolve("logs").toString())
                .put("node.name", name)
                .put("cluster.name", args[4])
                .put("network.host", "127.0.0.1")
                .put("http.port", args[2])
                .put("transport.port", args[3])
                // A shared build machine's disk may be fuller than production's watermarks allow.
                .put("cluster.routing.allocation.disk.threshold_enabled", false);
        if (seeds.isBlank()) {
            settings.put("discovery.type", "single-node");
        } else {
            settings.putList("discovery.seed_hosts", seedHosts(seeds));
            settings.putList("cluster.initial_cluster_manager_nodes", List.of(args[6].split(",")));
        }
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
                settings.build(), Map.of(), home.resolve("config"), () -> name);
        List<Class<? extends Plugin>> modules = new java.util.ArrayList<>();
        for (String module : MODULES) {
            modules.add(Class.forName(module).asSubclass(Plugin.class));
        }
        Node node = new ClasspathNode(environment, modules);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                stopped.countDown();
            }
        }, "edms-opensearch-shutdown"));
        node.start();
        System.out.println("edms: node " + name + " started, http 127.0.0.1:" + args[2]);
        stopped.await();
    }

    private static List<String> seedHosts(String ports) {
        return java.util.Arrays.stream(ports.split(",")).map(p -> "127.0.0.1:" + p.strip()).toList();
    }
}
