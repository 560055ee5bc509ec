#!/usr/bin/env python3
"""
The include rules of DESIGN.md's folder layout, checked on the sources:

    daemon (main.c) -> daemon/engine -> daemon/core -> transport, backend, conf
    conf -> transport (NQN, UUID and key-format checks only)
    tools -> transport
    transport and backend include nothing of the others

and, so that a quoted include always finds the file it names:
- no include climbs folders ("../x.h") or names a folder ("core/x.h");
- no two headers of the tree share a name;
- no header of the tree shares its name with a system header (transport's
  old endian.h made every #include <endian.h> find it).

Usage: include_rules.py SOURCE_ROOT. Prints each violation as
file:line: message; exit 1 if there is one, 0 otherwise.
"""
import os
import re
import sys

# folder -> folders its files may include (besides itself)
ALLOWED = {
    'transport': set(),
    'backend': set(),
    'conf': {'transport'},
    'daemon/core': {'transport', 'backend', 'conf'},
    'daemon/engine': {'daemon/core', 'transport', 'backend', 'conf'},
    'daemon': {'daemon/engine', 'daemon/core', 'transport', 'backend', 'conf'},
    'tools': {'transport'},
}
SYSTEM_DIRS = ['/usr/include', '/usr/include/x86_64-linux-gnu', '/usr/include/aarch64-linux-gnu']
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def folder_of(rel):
    d = os.path.dirname(rel)
    return d if d in ALLOWED else None


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else '.')
    files = {}  # rel path -> folder
    for folder in ALLOWED:
        base = os.path.join(root, folder)
        for name in sorted(os.listdir(base)):
            if name.endswith(('.c', '.h')):
                files[os.path.join(folder, name)] = folder
    headers = {}
    problems = []
    for rel in sorted(files):
        if rel.endswith('.h'):
            name = os.path.basename(rel)
            if name in headers:
                problems.append(f'{rel}:1: header name also used by {headers[name]}')
            headers[name] = rel
            for d in SYSTEM_DIRS:
                if os.path.exists(os.path.join(d, name)):
                    problems.append(f'{rel}:1: shadows the system header <{name}> ({d})')
                    break
    for rel, folder in sorted(files.items()):
        with open(os.path.join(root, rel), encoding='utf-8') as f:
            for n, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                if '/' in inc:
                    problems.append(f'{rel}:{n}: "{inc}": include by name, not by path')
                    continue
                target = headers.get(inc)
                if target is None:
                    continue  # a generated or test header; the build finds it or fails
                tfolder = files[target]
                if tfolder != folder and tfolder not in ALLOWED[folder]:
                    problems.append(f'{rel}:{n}: {folder}/ may not include {target}')
    for p in problems:
        print(p)
    print(f'{len(files)} files, {len(headers)} headers: '
          f'{len(problems)} violation(s) of the include rules')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
