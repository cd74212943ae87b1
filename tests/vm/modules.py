#!/usr/bin/env python3
"""The kernel modules the test VM must load, in an order that works, derived
from the kernel package itself rather than from memory: a kernel update once
made `virtio` depend on `virtio_ring`, and a fixed list loaded them in the
wrong order.

    modules.py MODDIR ROOT...

MODDIR is the unpacked package's lib/modules/<version>, on which `depmod -b`
has been run (the package ships no modules.dep: its postinst makes it).
Prints one module file (relative to MODDIR) per line, every dependency before
the modules that need it: the closure of ROOTs over modules.dep and the `pre:`
soft dependencies of modules.softdep (resolved through modules.alias; where an
alias names several modules, the portable `*_generic` one is taken, since the
VM's emulated CPU may lack what an accelerated one needs). Modules built into
the kernel (modules.builtin) need no loading and are left out, and so said on
stderr. Exits 1 naming any ROOT or dependency that is neither a module nor
built in.
"""

import os
import sys


def name_of(path):
    """A module's name from its file: kernel/drivers/md/dm-mod.ko.xz -> dm_mod."""
    base = os.path.basename(path)
    for ext in (".ko.xz", ".ko.zst", ".ko.gz", ".ko"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    return base.replace("-", "_")


def read(moddir, name):
    path = os.path.join(moddir, name)
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    moddir, roots = sys.argv[1], [r.replace("-", "_") for r in sys.argv[2:]]

    files, deps = {}, {}
    for line in read(moddir, "modules.dep"):
        target, _, rest = line.partition(":")
        files[name_of(target)] = target
        deps[name_of(target)] = [name_of(d) for d in rest.split()]
    if not files:
        sys.exit(f"modules.py: no modules.dep in {moddir} (run depmod -b first)")
    builtin = {name_of(p) for p in read(moddir, "modules.builtin")}

    aliases = {}
    for line in read(moddir, "modules.alias"):
        parts = line.split()
        if len(parts) == 3 and parts[0] == "alias":
            aliases.setdefault(parts[1], []).append(parts[2].replace("-", "_"))

    def resolve(name):
        """A module name, or an alias of one (for soft dependencies)."""
        if name.replace("-", "_") in files or name.replace("-", "_") in builtin:
            return name.replace("-", "_")
        cands = aliases.get(name, [])
        generic = [c for c in cands if c.endswith("_generic")]
        return (generic or cands or [None])[0]

    soft = {}
    for line in read(moddir, "modules.softdep"):
        parts = line.split()
        if len(parts) < 3 or parts[0] != "softdep":
            continue
        pre, mode = [], None
        for p in parts[2:]:
            if p.endswith(":"):
                mode = p[:-1]
            elif mode == "pre":
                pre.append(p)
        soft[parts[1].replace("-", "_")] = pre

    order, state = [], {}

    def visit(name, wanted_by):
        real = resolve(name)
        if real is None:
            sys.exit(f"modules.py: {name} (needed by {wanted_by}) is neither a module nor built in")
        if real in builtin:
            if real not in state:
                print(f"modules.py: {real} is built into the kernel", file=sys.stderr)
                state[real] = "done"
            return
        if state.get(real) == "done":
            return
        if state.get(real) == "visiting":
            sys.exit(f"modules.py: dependency cycle through {real}")
        state[real] = "visiting"
        for dep in soft.get(real, []) + deps.get(real, []):
            visit(dep, real)
        state[real] = "done"
        order.append(files[real])

    for root in roots:
        visit(root, "the test VM")
    print("\n".join(order))


if __name__ == "__main__":
    main()
