/**
 * The binding contract (public: README and docs/design.md): how compute in a stack says which
 * workload it is. AWS instances, launch templates and network interfaces, and Azure network
 * interfaces, carry the tag `blastradius:workload = <workload name>`; GCP instances and instance
 * templates are bound by the service account they run as; Kubernetes pods (and the pod templates of
 * Deployments, StatefulSets, DaemonSets, Jobs and CronJobs) by namespace and labels against a
 * workload's `podLabels`.
 */
export const WORKLOAD_TAG = "blastradius:workload";

/**
 * The value Pulumi puts on the wire for an input unknown during a preview (an id of a resource not
 * created yet). An attachment that reads it is reported as unknown, never as proven.
 */
export const UNKNOWN_VALUE = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
