// The cilium target's render (plan → native rules) and evaluate (rules → connectivity) are exported from here.
export {};
