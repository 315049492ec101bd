/**
 * The workload builders on their own: `workload` checked and resolved, the
 * DaemonSet (one pod per node on the host network, rolled one node at a time,
 * old pod first), the Service in front of it (Ready pods on any node),
 * each as an object the Kubernetes schema accepts. The component's own use of
 * them is covered under mocks in component.test.ts.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, test } from "node:test";
import {
  checkWorkload,
  validateArgs,
  Workload,
  type StaticContainerRegistryArgs,
} from "../../src/kubernetes/args";
import { hostPathVolume } from "../../src/kubernetes/storage";
import {
  CONTENT_HASH_ANNOTATION,
  CONTROL_PLANE_TOLERATIONS,
  daemonSetSpec,
  deploymentSpec,
  serviceSpec,
  type PodInputs,
} from "../../src/kubernetes/workload";
import { schemaErrors, unknownFieldErrors } from "./schema";
import { tmpDir } from "../support/tools";

/* eslint-disable @typescript-eslint/no-explicit-any */

function inputs(extra: Partial<StaticContainerRegistryArgs> = {}, workload?: Workload): PodInputs {
  const problems: string[] = [];
  const w = checkWorkload({ workload, ...extra }, problems);
  assert.deepEqual(problems, []);
  const args = {
    ...validateArgs("reg", {
      imagesDir: path.join(tmpDir("k8s-workload")),
      hostPath: { path: "/var/lib/images", anyNode: true },
      ...extra,
    }),
    ...w,
  };
  return {
    name: "reg",
    args,
    configMapNames: ["reg-config-0-abc"],
    imagesVolume: hostPathVolume(args.hostPath!),
    contentHash: "a".repeat(64),
    nginxMain: "nginx.conf",
    driftGuardMain: "drift-guard.sh",
  };
}

const object = (kind: string, apiVersion: string, spec: unknown) => ({
  apiVersion,
  kind,
  metadata: { name: "reg", namespace: "default" },
  spec,
});

describe("workload", () => {
  test("checkWorkload: the kinds, their host network default, and what a DaemonSet rules out", () => {
    const cases = [
      {
        description: "default",
        args: {},
        want: { workload: "Deployment", hostNetwork: false },
        problems: [],
      },
      {
        description: "DaemonSet: host network by default",
        args: { workload: "DaemonSet" },
        want: { workload: "DaemonSet", hostNetwork: true },
        problems: [],
      },
      {
        description: "DaemonSet with a hostPort instead",
        args: { workload: "DaemonSet", hostNetwork: false },
        want: { workload: "DaemonSet", hostNetwork: false },
        problems: [],
      },
      {
        description: "Deployment on the host network",
        args: { workload: "Deployment", hostNetwork: true },
        want: { workload: "Deployment", hostNetwork: true },
        problems: [],
      },
      {
        description: "unknown kind",
        args: { workload: "StatefulSet" },
        want: { workload: "Deployment", hostNetwork: false },
        problems: ['workload must be one of Deployment, DaemonSet, StaticPod, not "StatefulSet"'],
      },
      {
        description: "replicas with a DaemonSet",
        args: { workload: "DaemonSet", replicas: 3 },
        want: { workload: "DaemonSet", hostNetwork: true },
        problems: [
          "replicas has no meaning with workload DaemonSet (one pod on each node that holds the images); leave it out",
        ],
      },
    ];
    for (const c of cases) {
      const problems: string[] = [];
      assert.deepEqual(checkWorkload(c.args, problems), c.want, c.description);
      assert.deepEqual(problems, c.problems, c.description);
    }
  });

  test("DaemonSet: host network, node port, control-plane toleration, one node at a time with the old pod first", () => {
    const p = inputs({}, Workload.DaemonSet);
    const spec: any = daemonSetSpec(p);
    const obj = object("DaemonSet", "apps/v1", spec);
    assert.deepEqual(schemaErrors(obj), []);
    assert.deepEqual(unknownFieldErrors([obj]), []);
    assert.deepEqual(spec.updateStrategy, {
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 0, maxUnavailable: 1 },
    });
    assert.equal(spec.minReadySeconds, 5);
    assert.deepEqual(spec.selector, {
      matchLabels: {
        "app.kubernetes.io/name": "static-container-registry",
        "app.kubernetes.io/instance": "reg",
      },
    });
    const pod = spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, "ClusterFirstWithHostNet");
    assert.deepEqual(pod.containers[0].ports, [
      { name: "http", containerPort: 5000, hostPort: 5000, protocol: "TCP" },
    ]);
    assert.deepEqual(pod.tolerations, CONTROL_PLANE_TOLERATIONS);
    assert.equal(pod.affinity, undefined, "no anti-affinity: a DaemonSet places one pod per node by itself");
    // The content hash rolls the pods, as in a Deployment.
    assert.equal(spec.template.metadata.annotations[CONTENT_HASH_ANNOTATION], "a".repeat(64));
    // Same pod as the Deployment's on the host network, apart from the tolerations.
    const dep: any = deploymentSpec(inputs({ hostNetwork: true }));
    assert.deepEqual({ ...pod, tolerations: undefined }, { ...dep.template.spec, tolerations: undefined });
  });

  test("DaemonSet: the user's tolerations replace the default; off the host network the port is a hostPort", () => {
    const own = [{ key: "dedicated", operator: "Equal", value: "registry", effect: "NoSchedule" }];
    const spec: any = daemonSetSpec(inputs({ tolerations: own, hostNetwork: false }, Workload.DaemonSet));
    const pod = spec.template.spec;
    assert.deepEqual(pod.tolerations, own);
    assert.equal(pod.hostNetwork, undefined);
    assert.equal(pod.containers[0].ports[0].hostPort, 5000);
  });

  test("Service: Ready pods on any node, in front of a DaemonSet too (the nodes' fallback)", () => {
    const ds: any = serviceSpec("reg", { ...inputs({}, Workload.DaemonSet).args });
    assert.equal(ds.internalTrafficPolicy, undefined);
    assert.deepEqual(schemaErrors(object("Service", "v1", ds)), []);
    const dep: any = serviceSpec("reg", inputs().args);
    assert.equal(dep.internalTrafficPolicy, undefined);
  });
});
