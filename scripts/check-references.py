#!/usr/bin/env python3
"""Reference check for rendered Kubernetes objects (`kubectl kustomize` or `harness render`
output): schema validation accepts a pod that names a ConfigMap which is not there, so this
checks what schemas cannot.

For every pod (and pod template of Deployment/DaemonSet/StatefulSet/Job):
  - every ConfigMap and Secret it names (volumes, projected volumes, env, envFrom) exists in
    the set, in the pod's namespace;
  - a `subdomain` has a headless Service of that name in the namespace whose selector matches
    the pod, with publishNotReadyAddresses (DDS peers look each other up before they are
    Ready), and the pod sets `hostname` (without it the per-pod DNS name never exists);
  - a serviceAccountName other than `default` exists;
  - every image is one of ours (the --registry prefix), so a placeholder that an `images:`
    entry failed to rewrite is caught, and a container given ROS settings runs a ros-* image;
  - the containers of one pod agree on RMW_IMPLEMENTATION and CYCLONEDDS_URI (a patch that
    reached only containers/0), and a CYCLONEDDS_URI file lies under one of the container's
    volume mounts;
  - a pod's securityContext.sysctls: none on the host network (the kubelet refuses net.*
    sysctls there), and sysctls outside Kubernetes' safe set only in a namespace of the set whose
    Pod Security enforce level is `privileged` (baseline and restricted reject the pod);
  - hostNetwork, hostIPC or hostPID only in such a namespace, for the same reason.

Usage: check-references.py [--registry PREFIX] FILE...   Exit 1 on any problem.
"""
import argparse
import sys

import yaml

WORKLOADS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"}


def pods_of(obj):
    kind = obj.get("kind")
    meta = obj.get("metadata") or {}
    if kind == "Pod":
        yield meta, obj.get("spec") or {}
    elif kind in WORKLOADS:
        tmpl = (obj.get("spec") or {}).get("template") or {}
        tmeta = dict(tmpl.get("metadata") or {})
        tmeta.setdefault("namespace", meta.get("namespace"))
        tmeta.setdefault("name", meta.get("name"))
        yield tmeta, tmpl.get("spec") or {}
    elif kind == "CronJob":
        job = ((obj.get("spec") or {}).get("jobTemplate") or {}).get("spec") or {}
        tmpl = job.get("template") or {}
        tmeta = dict(tmpl.get("metadata") or {})
        tmeta.setdefault("namespace", meta.get("namespace"))
        tmeta.setdefault("name", meta.get("name"))
        yield tmeta, tmpl.get("spec") or {}


def referenced(spec):
    """(kind, name, where) of every ConfigMap/Secret the pod spec names."""
    for v in spec.get("volumes") or []:
        if "configMap" in v:
            yield "ConfigMap", v["configMap"].get("name"), f"volume {v.get('name')}"
        if "secret" in v:
            yield "Secret", v["secret"].get("secretName"), f"volume {v.get('name')}"
        for src in (v.get("projected") or {}).get("sources") or []:
            if "configMap" in src:
                yield "ConfigMap", src["configMap"].get("name"), f"projected volume {v.get('name')}"
            if "secret" in src:
                yield "Secret", src["secret"].get("name"), f"projected volume {v.get('name')}"
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        for e in c.get("env") or []:
            vf = e.get("valueFrom") or {}
            if "configMapKeyRef" in vf and not vf["configMapKeyRef"].get("optional"):
                yield "ConfigMap", vf["configMapKeyRef"].get("name"), f"container {c.get('name')} env {e.get('name')}"
            if "secretKeyRef" in vf and not vf["secretKeyRef"].get("optional"):
                yield "Secret", vf["secretKeyRef"].get("name"), f"container {c.get('name')} env {e.get('name')}"
        for ef in c.get("envFrom") or []:
            if "configMapRef" in ef and not ef["configMapRef"].get("optional"):
                yield "ConfigMap", ef["configMapRef"].get("name"), f"container {c.get('name')} envFrom"
            if "secretRef" in ef and not ef["secretRef"].get("optional"):
                yield "Secret", ef["secretRef"].get("name"), f"container {c.get('name')} envFrom"


# Kubernetes' safe sysctls (Pod Security baseline allows these only).
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}


def enforce_level(ns, have):
    """The Pod Security enforce level of namespace `ns` when the set holds it, else None."""
    namespace = have.get(("Namespace", None, ns))
    if namespace is None:
        return None
    return ((namespace.get("metadata") or {}).get("labels") or {}).get("pod-security.kubernetes.io/enforce")


def sysctl_problems(where, ns, spec, have):
    names = [s.get("name") for s in (spec.get("securityContext") or {}).get("sysctls") or []]
    if names and spec.get("hostNetwork"):
        yield f"{where}: sysctls {names} on the host network: the kubelet refuses net.* sysctls there"
    unsafe = [n for n in names if n not in SAFE_SYSCTLS]
    level = enforce_level(ns, have)
    if unsafe and level in ("baseline", "restricted"):
        yield (f"{where}: unsafe sysctls {unsafe} in namespace {ns}, whose Pod Security enforce level "
               f"{level} rejects them (needs privileged)")


def host_namespace_problems(where, ns, spec, have):
    """hostNetwork, hostIPC and hostPID: Pod Security baseline and restricted reject the pod."""
    host = [k for k in ("hostNetwork", "hostIPC", "hostPID") if spec.get(k)]
    level = enforce_level(ns, have)
    if host and level in ("baseline", "restricted"):
        yield (f"{where}: {', '.join(host)} in namespace {ns}, whose Pod Security enforce level {level} "
               "rejects the pod (needs privileged)")


def env_value(container, name):
    for e in container.get("env") or []:
        if e.get("name") == name:
            return e.get("value")
    return None


def check(docs, registry, allow=()):
    problems = []
    have = {}
    for d in docs:
        meta = d.get("metadata") or {}
        have[(d.get("kind"), meta.get("namespace"), meta.get("name"))] = d
    for d in docs:
        for meta, spec in pods_of(d):
            ns, pod = meta.get("namespace"), meta.get("name")
            where = f"{d.get('kind')} {ns or '(no namespace)'}/{pod}"
            for kind, name, place in referenced(spec):
                if (kind, ns, name) not in have:
                    others = [k[1] for k in have if k[0] == kind and k[2] == name]
                    hint = f" (there is one in namespace {others[0] or '(none)'})" if others else ""
                    problems.append(f"{where}: {place} names {kind} {name}, which is not in the set{hint}")
            sub = spec.get("subdomain")
            if sub:
                svc = have.get(("Service", ns, sub))
                if svc is None:
                    problems.append(f"{where}: subdomain {sub} has no Service {sub} in its namespace")
                else:
                    s = svc.get("spec") or {}
                    if s.get("clusterIP") != "None":
                        problems.append(f"{where}: Service {sub} (its subdomain) is not headless (clusterIP: None)")
                    sel = s.get("selector") or {}
                    labels = meta.get("labels") or {}
                    if not sel or any(labels.get(k) != v for k, v in sel.items()):
                        problems.append(f"{where}: Service {sub} (its subdomain) does not select this pod")
                    if not s.get("publishNotReadyAddresses"):
                        problems.append(
                            f"{where}: Service {sub} lacks publishNotReadyAddresses: true (peers resolve each other "
                            "before they are Ready)"
                        )
                if not spec.get("hostname"):
                    problems.append(f"{where}: subdomain {sub} without hostname: the per-pod DNS name never exists")
            problems.extend(sysctl_problems(where, ns, spec, have))
            problems.extend(host_namespace_problems(where, ns, spec, have))
            sa = spec.get("serviceAccountName")
            if sa and sa != "default" and ("ServiceAccount", ns, sa) not in have:
                problems.append(f"{where}: serviceAccountName {sa} is not in the set")
            containers = spec.get("containers") or []
            for c in containers + (spec.get("initContainers") or []):
                image = c.get("image") or ""
                if registry and not image.startswith(registry) and image not in allow:
                    problems.append(f"{where}: container {c.get('name')} image {image!r} is not one of ours ({registry}*)")
            for var in ("RMW_IMPLEMENTATION", "CYCLONEDDS_URI", "ROS_STATIC_PEERS", "ROS_DISCOVERY_SERVER",
                        "FASTDDS_BUILTIN_TRANSPORTS"):
                values = {c.get("name"): env_value(c, var) for c in containers}
                if len(set(values.values())) > 1:
                    problems.append(f"{where}: containers disagree on {var}: {values}")
            for c in containers:
                image = c.get("image") or ""
                ours = registry and image.startswith(registry)
                if ours and env_value(c, "RMW_IMPLEMENTATION") and not image[len(registry):].startswith("ros-"):
                    problems.append(
                        f"{where}: container {c.get('name')} sets RMW_IMPLEMENTATION but runs {image}, which has no "
                        "ROS 2 (an `images:` entry meant to swap in the ros-* image did not match)"
                    )
                uri = env_value(c, "CYCLONEDDS_URI") or ""
                if uri.startswith("file://"):
                    path = uri[len("file://"):]
                    mounts = [m.get("mountPath", "") for m in c.get("volumeMounts") or []]
                    if not any(path.startswith(m.rstrip("/") + "/") for m in mounts):
                        problems.append(f"{where}: container {c.get('name')} CYCLONEDDS_URI {path} is on no volume mount")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--registry", default="ghcr.io/chatter-harness/", help="prefix every image must have ('' = any)")
    ap.add_argument("--allow", action="append", default=[], help="another accepted image (a scenario's own)")
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    failed = False
    for f in args.files:
        with open(f, encoding="utf-8") as fh:
            docs = [d for d in yaml.safe_load_all(fh) if isinstance(d, dict)]
        problems = check(docs, args.registry, set(args.allow))
        for p in problems:
            print(f"{f}: {p}")
        failed |= bool(problems)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
