"""Runs a command under the system-call filters a systemd unit file asks for, the way systemd builds
them (src/shared/seccomp-util.c): one seccomp filter per setting, loaded one after the other, so that
the kernel applies the strictest answer of them all.

- SystemCallFilter= lines, in order: the first an allow list, `~` lines taking syscalls out of it; the
  groups expanded by `systemd-analyze syscall-filter` (this systemd's own definition of them); what is
  not allowed fails with SystemCallErrorNumber= (EPERM).
- RestrictAddressFamilies=: socket() with any other family fails with EAFNOSUPPORT.
- With --mdwe, MemoryDenyWriteExecute=yes: mmap with PROT_WRITE|PROT_EXEC, mprotect and
  pkey_mprotect adding PROT_EXEC, shmat with SHM_EXEC fail with EPERM.
libseccomp sets no_new_privs before loading, as NoNewPrivileges=yes does.

Usage: seccomp_exec.py UNIT_FILE [--mdwe] -- COMMAND [ARG...]"""
import errno
import os
import socket
import subprocess
import sys

import seccomp

argv = sys.argv[1:]
split = argv.index("--")
unit_file, options, command = argv[0], argv[1:split], argv[split + 1:]

settings = []
for line in open(unit_file, encoding="utf-8"):
    line = line.strip()
    if line and not line.startswith("#") and "=" in line:
        key, value = line.split("=", 1)
        settings.append((key, value))


def expand_groups():
    """Every @group of this systemd, as sets of syscall names with nested groups expanded."""
    out = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"], check=True, capture_output=True, text=True).stdout
    raw, current = {}, None
    for line in out.split("\n"):
        if line.startswith("@"):
            current = line.strip()
            raw[current] = []
        elif line.startswith("    ") and current is not None:
            entry = line.strip()
            if entry and not entry.startswith("#"):
                raw[current].append(entry)
        elif line.startswith("#"):
            current = None

    def names(entry, seen=()):
        if not entry.startswith("@"):
            return {entry}
        if entry in seen:
            return set()
        return set().union(*[names(e, seen + (entry,)) for e in raw[entry]])

    return names


names = expand_groups()
allowed = None
for key, value in settings:
    if key != "SystemCallFilter":
        continue
    deny = value.startswith("~")
    entries = set().union(*[names(e) for e in value.lstrip("~").split()])
    if allowed is None:
        if deny:
            sys.exit("a deny-list first is not what the unit does; not modelled")
        allowed = entries
    elif deny:
        allowed -= entries
    else:
        allowed |= entries
error_name = dict(settings).get("SystemCallErrorNumber", "EPERM")
error = getattr(errno, error_name)

filters = []
if allowed is not None:
    f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(error))
    for name in sorted(allowed):
        try:
            f.add_rule(seccomp.ALLOW, name)
        except (RuntimeError, ValueError, OSError):
            pass  # not a syscall of this architecture (systemd skips those too)
    filters.append(f)

families = dict(settings).get("RestrictAddressFamilies")
if families:
    keep = {getattr(socket, name) for name in families.split()}
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    AF_MAX = 46
    for family in range(AF_MAX):
        if family not in keep:
            f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.EQ, family))
    f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.GE, AF_MAX))
    filters.append(f)

if "--mdwe" in options:
    PROT_WRITE, PROT_EXEC, SHM_EXEC = 0x2, 0x4, 0o100000
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    f.add_rule(seccomp.ERRNO(errno.EPERM), "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, PROT_WRITE | PROT_EXEC, PROT_WRITE | PROT_EXEC))
    for call in ("mprotect", "pkey_mprotect"):
        f.add_rule(seccomp.ERRNO(errno.EPERM), call, seccomp.Arg(2, seccomp.MASKED_EQ, PROT_EXEC, PROT_EXEC))
    f.add_rule(seccomp.ERRNO(errno.EPERM), "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, SHM_EXEC, SHM_EXEC))
    filters.append(f)

# The allow list last, as systemd does: once it is in, loading another filter may itself be refused.
for f in filters[1:] + filters[:1]:
    f.load()
os.execvp(command[0], command)
