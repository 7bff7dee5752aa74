/**
 * The binding contract (public: README and docs/deployed-stack.md): how compute in a stack says
 * which workload it is. AWS compute (instances, spot requests, launch templates and configurations,
 * Auto Scaling groups, fleets, network interfaces) and Azure network interfaces (and the inline
 * ones of VMs and scale sets) carry the tag `blastradius:workload = <workload name>`; GCP instances,
 * instance templates and instances from templates are bound by the service account they run as;
 * Kubernetes pods (and the pod templates of Deployments, StatefulSets, DaemonSets, ReplicaSets,
 * ReplicationControllers, Jobs and CronJobs) by namespace and labels against a workload's
 * `podLabels`.
 */
export const WORKLOAD_TAG = "blastradius:workload";

/**
 * The value Pulumi puts on the wire for an input unknown during a preview (an id of a resource not
 * created yet). An attachment that reads it is reported as unknown, never as proven.
 */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
