"""Pure model: sizes, snapshots, convergence, safety policy, audit. No textual, no libvirt."""
