"""The Swift bindings without a Swift toolchain (mobile.md §1.6): the generated C header is
compiled with gcc -Wall -Werror and linked against the library; at run time the contract version
and every API checksum the generated .swift expects are compared with the library's; every
function the header declares must be exported by the library.

usage: check_swift_ffi.py <dir with NachbarCore.swift and NachbarCoreFFI.h> <library.so>
Prints "N passed, N failed" last (one check per checksum, plus contract and symbols).
"""

import os
import re
import subprocess
import sys
import tempfile


def main():
    out_dir, library = sys.argv[1], os.path.abspath(sys.argv[2])
    swift = open(os.path.join(out_dir, "NachbarCore.swift"), encoding="utf-8").read()
    header_path = os.path.abspath(os.path.join(out_dir, "NachbarCoreFFI.h"))
    header = open(header_path, encoding="utf-8").read()

    contract = int(re.search(r"let bindings_contract_version = (\d+)", swift).group(1))
    contract_fn = re.search(r"scaffolding_contract_version = (\w+)\(\)", swift).group(1)
    checksums = re.findall(r"if \((uniffi_\w+_checksum_\w+)\(\) != (\d+)\)", swift)
    declared = sorted(set(re.findall(r"^\w[\w\s\*]*?\b((?:uniffi|ffi)_nachbar_mobile_\w+)\(", header, re.M)))

    lines = ['#include <stdio.h>', f'#include "{header_path}"', "int main(void) {", "  int failed = 0;"]
    lines.append(
        f'  if ({contract_fn}() != {contract}) {{ printf("FAIL contract %u != {contract}\\n", {contract_fn}()); failed++; }}'
        f' else printf("ok contract {contract}\\n");'
    )
    for name, expected in checksums:
        lines.append(
            f'  if ({name}() != {expected}) {{ printf("FAIL {name} %u != {expected}\\n", {name}()); failed++; }}'
            f' else printf("ok {name}\\n");'
        )
    lines += ["  return failed;", "}"]

    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        source, exe = os.path.join(tmp, "check.c"), os.path.join(tmp, "check")
        open(source, "w").write("\n".join(lines) + "\n")
        subprocess.run(
            ["gcc", "-Wall", "-Werror", "-D_Nonnull=", "-D_Nullable=", "-o", exe, source,
             library, f"-Wl,-rpath,{os.path.dirname(library)}"],
            check=True,
        )
        run = subprocess.run([exe], capture_output=True, text=True)
        for line in run.stdout.splitlines():
            print(line)
            if line.startswith("ok "):
                passed += 1
            else:
                failed += 1
        if run.returncode not in (0, failed):
            failed += 1

    exported = set(subprocess.run(["nm", "-D", "--defined-only", library], capture_output=True, text=True, check=True)
                   .stdout.split())
    missing = [d for d in declared if d not in exported]
    if missing or not declared:
        print(f"FAIL symbols: {len(missing)} of {len(declared)} declared functions missing: {missing[:5]}")
        failed += 1
    else:
        print(f"ok symbols: all {len(declared)} declared functions exported")
        passed += 1
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
