/**
 * A Service's cluster IP on simulated nodes, programmed as kube-proxy's
 * iptables mode does it: in each node's network namespace, connections to
 * `clusterIP:port` are DNATed to one of the Service's ready endpoints, chosen
 * at random per connection (`statistic --mode random`), and refused at once
 * (`REJECT --reject-with tcp-reset`) when there is none. Like kube-proxy, it
 * knows only what it is told: the test sets the ready endpoints as the
 * endpoints controller would (a pod being deleted leaves them first).
 *
 * Needs iptables (nat table) in the nodes' namespaces.
 */
import type { SimNode } from "./nodeSim";

const CHAIN = "SCR-SVC";

export interface ServiceProxy {
  clusterIP: string;
  port: number;
  /** Programs every node to route to these `host:port`s (all on `port`'s target port). */
  setReady: (endpoints: readonly string[]) => void;
  /** Removes the rules from every node. */
  stop: () => void;
}

function must(n: SimNode, argv: string[]) {
  const r = n.exec(argv);
  if (r.status !== 0) throw new Error(`service proxy on ${n.name}: ${argv.join(" ")}: ${r.stderr}`);
}

/** A cluster IP (routed out of each node's eth0, as a default route would) for `port` on `nodes`. */
export function startServiceProxy(nodes: readonly SimNode[], clusterIP: string, port: number): ServiceProxy {
  // Both tables: nat for the DNAT to a Ready endpoint, filter for the reset when there is none.
  const tables = [["-t", "nat"], []];
  const hook = ["OUTPUT", "-d", clusterIP, "-p", "tcp", "--dport", String(port), "-j", CHAIN];
  for (const n of nodes) {
    must(n, ["ip", "route", "replace", `${clusterIP}/32`, "dev", "eth0"]);
    for (const t of tables) {
      must(n, ["iptables", ...t, "-N", CHAIN]);
      must(n, ["iptables", ...t, "-A", ...hook]);
    }
  }
  const setReady = (endpoints: readonly string[]) => {
    for (const n of nodes) {
      must(n, ["iptables", "-t", "nat", "-F", CHAIN]);
      must(n, ["iptables", "-F", CHAIN]);
      if (endpoints.length === 0) {
        must(n, ["iptables", "-A", CHAIN, "-p", "tcp", "-j", "REJECT", "--reject-with", "tcp-reset"]);
        continue;
      }
      endpoints.forEach((e, i) => {
        const left = endpoints.length - i;
        const pick =
          left > 1 ? ["-m", "statistic", "--mode", "random", "--probability", (1 / left).toFixed(5)] : [];
        must(n, [
          "iptables",
          "-t",
          "nat",
          "-A",
          CHAIN,
          "-p",
          "tcp",
          ...pick,
          "-j",
          "DNAT",
          "--to-destination",
          e,
        ]);
      });
    }
  };
  setReady([]);
  return {
    clusterIP,
    port,
    setReady,
    stop: () => {
      for (const n of nodes) {
        for (const t of tables) {
          n.exec(["iptables", ...t, "-D", ...hook]);
          n.exec(["iptables", ...t, "-F", CHAIN]);
          n.exec(["iptables", ...t, "-X", CHAIN]);
        }
        n.exec(["ip", "route", "del", `${clusterIP}/32`, "dev", "eth0"]);
      }
    },
  };
}
