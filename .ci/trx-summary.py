#!/usr/bin/env python3
"""Reads the TRX files of a test run and prints what .ci/run reports: every skipped test (inconclusive or not run)
with its reason, then the line "N passed, N failed, N skipped". Exits 1 when a test failed, none passed, or a test
skipped for a reason that does not start with "machine: " (Cnn.Tests/Support/Machine.cs): only a missing machine
feature may skip a test."""
import re
import sys
import xml.etree.ElementTree as ET

NS = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
PREFIX = "machine: "

passed = failed = 0
skipped = []  # (test, reason)
for path in sys.argv[1:]:
    for result in ET.parse(path).getroot().iterfind(".//t:UnitTestResult", NS):
        outcome, name = result.get("outcome"), result.get("testName")
        if outcome == "Passed":
            passed += 1
        elif outcome in ("NotExecuted", "Inconclusive"):
            message = result.find("t:Output/t:ErrorInfo/t:Message", NS)
            text = (message.text or "") if message is not None else ""
            reason = re.sub(r"^Assert\.Inconclusive(?: failed)?\.\s*", "", text.strip())
            skipped.append((name, reason or "(no reason given)"))
        else:
            failed += 1

unexplained = [s for s in skipped if not s[1].startswith(PREFIX)]
by_reason = {}
for name, reason in skipped:
    by_reason.setdefault(reason, []).append(name)
for reason, names in by_reason.items():
    print(f"skipped {len(names)}: {reason[:400]}")
    print(f"  ({', '.join(sorted(names))[:400]})")
for name, reason in unexplained:
    print(f"error: {name} was skipped for a reason the machine does not explain: {reason[:300]}")
print(f"{passed} passed, {failed} failed, {len(skipped)} skipped")
sys.exit(1 if failed or not passed or unexplained else 0)
