#!/usr/bin/env python3
"""One whole assessment through the qabilet.v1 gRPC service, from a client that knows only
the .proto files (README, Tour 0).

Needs grpcio and stubs generated from proto/ (pip install grpcio grpcio-tools):

    mkdir -p /tmp/py
    python3 -m grpc_tools.protoc -I proto --python_out=/tmp/py --grpc_python_out=/tmp/py \
        proto/qabilet/v1/*.proto
    QABILET_TOKEN=<secret> PYTHONPATH=/tmp/py python3 examples/assessment_client.py

QABILET_ADDR is the server (default 127.0.0.1:50051); QABILET_TOKEN a psychologist's (or the
admin's) token. Registers child K-0417 (a second run finds the same child, by its
request_id), starts a session, gives Similarities item by item as the rules say (reversal,
then discontinue), shows a refused item and an override, enters the other subtests of the
general composite, finishes the session and prints the results.
"""

import os
import sys
import uuid

import grpc

from qabilet.v1 import assessment_pb2 as pb
from qabilet.v1 import assessment_pb2_grpc
from qabilet.v1 import catalog_pb2, catalog_pb2_grpc

ADDR = os.environ.get("QABILET_ADDR", "127.0.0.1:50051")
TOKEN = os.environ.get("QABILET_TOKEN")
BATTERY = "batteries/qabilet-primary-demo"
TEST_DATE = "2026-11-30"  # born 2018-09-14: 8:2:16, 98 months, Similarities starts at sim05

# Similarities: the child's score on each item it is given (items not listed score 0).
# sim05 full, sim06 not: reversal to sim04, full, which gives the basal; onward from sim07;
# sim11–sim13 score 0: discontinue after 3 zeros in a row.
SIM = {"sim05": 2, "sim06": 1, "sim04": 1, "sim07": 2, "sim08": 2, "sim09": 1, "sim10": 1}
# The other subtests of the general composite: full credit on this many items from the start
# point, then 0 until the rules stop; cd (a speed test) is one total. mr is adaptive: the
# engine chooses its items (next_item, phase "adaptive") and its raw score is the raw-score
# equivalent of the child's θ; the loop below follows next_item all the same.
OTHERS = {"voc": 9, "mr": 7, "bd": 6, "qr": 8, "ds": 7}
CD_TOTAL = 38


def main():
    if not TOKEN:
        sys.exit("set QABILET_TOKEN (qabilet token create --role psychologist …, or the admin token)")
    auth = (("authorization", f"Bearer {TOKEN}"),)
    channel = grpc.insecure_channel(ADDR)
    catalog = catalog_pb2_grpc.CatalogStub(channel)
    assessment = assessment_pb2_grpc.AssessmentStub(channel)

    def call(method, request):
        return method(request, metadata=auth)

    def rid():
        return str(uuid.uuid4())

    battery = call(catalog.GetBattery, catalog_pb2.GetBatteryRequest(name=BATTERY))
    item_max = {i.id: i.max for s in battery.subtests for i in s.items}
    print(f"battery {battery.id} {battery.version}, norm set {battery.norm_set.hash[:15]}…, "
          f"{len(battery.subtests)} subtests")

    child = call(assessment.CreateChild, pb.CreateChildRequest(
        child=pb.Child(code="K-0417", birth_date="2018-09-14", sex="F", test_language="kk"),
        request_id="create-K-0417"))
    print(f"child {child.name} code {child.code} born {child.birth_date} centre {child.centre}")

    session = call(assessment.StartSession, pb.StartSessionRequest(
        child=child.name, battery=BATTERY, test_date=TEST_DATE, request_id=rid()))
    print(f"session {session.name} test date {session.test_date} examiner {session.examiner}")

    def record(subtest, item, score, reason=""):
        return call(assessment.RecordResponse, pb.RecordResponseRequest(
            session=session.name, subtest=subtest, item=item, score=score,
            override_reason=reason, request_id=rid()))

    def show(state):
        if state.done:
            return (f"done ({state.done_reason}) basal {state.basal_item or '-'} "
                    f"discontinued after {state.discontinued_after or '-'}, raw {state.raw_score}")
        return f"next {state.next_item} ({state.phase}), raw {state.raw_score}"

    print("\nSimilarities (sim), following next_item:")
    state = call(assessment.GetNextItem, pb.GetNextItemRequest(session=session.name, subtest="sim"))
    print(f"  start {state.start_item}: next {state.next_item} ({state.phase})")
    while not state.done:
        item = state.next_item
        score = SIM.get(item, 0)
        state = record("sim", item, score)
        print(f"  {item} = {score}/{item_max[item]}  -> {show(state)}")

    print("\nsim14 after the discontinue, without a reason:")
    try:
        record("sim", "sim14", 2)
    except grpc.RpcError as e:
        print(f"  refused: {e.code().name}: {e.details()}")
    state = record("sim", "sim14", 2, reason="testing the limits: child asked to try one more")
    print(f"  with a reason: accepted, {show(state)}")
    for o in state.overrides:
        print(f"  override {o.item}: {o.reason}")

    print("\nThe other subtests of the general composite:")
    for subtest, full in OTHERS.items():
        state = call(assessment.GetNextItem,
                     pb.GetNextItemRequest(session=session.name, subtest=subtest))
        start, given = state.start_item or "(adaptive)", 0
        while not state.done:
            item = state.next_item
            given += 1
            state = record(subtest, item, item_max[item] if given <= full else 0)
        print(f"  {subtest}: start {start}, {state.items_administered} items, {show(state)}")
        if state.adaptive:
            print(f"        θ = {state.theta:.2f}, SE {state.theta_se:.2f} ({state.estimator}), "
                  f"raw-score equivalent {state.raw_score}")
    state = record("cd", "", CD_TOTAL)
    print(f"  cd: total {CD_TOTAL}, {show(state)}")

    session = call(assessment.FinishSession,
                   pb.SessionActionRequest(name=session.name, request_id=rid()))
    print(f"\nsession {pb.SessionState.Name(session.state)} at {session.finish_time}")

    p = call(assessment.GetResults, pb.GetResultsRequest(session=session.name))
    print(f"\nresults: {p.norm_set.battery} {p.norm_set.version} ({p.norm_set.hash[:15]}…), "
          f"age {p.age.years}:{p.age.months}:{p.age.days}")
    for s in p.subtests:
        print(f"  {s.subtest:4} raw {s.raw:3}  scaled {s.scaled:2}  percentile {s.percentile:5.1f}  "
              f"95% CI {s.ci.low}–{s.ci.high}")
    for note in p.notes:
        print(f"  note: {note}")
    for c in p.composites:
        if not c.computed:
            print(f"  {c.composite:4} not computed, missing {', '.join(c.missing)}")
        else:
            print(f"  {c.composite:4} sum {c.sum:3}  index {c.index:3}  percentile {c.percentile:5.1f}  "
                  f"95% CI {c.ci.low}–{c.ci.high}  {c.classification} ({c.basis})")
    print(f"notice: {p.notice}")


if __name__ == "__main__":
    try:
        main()
    except grpc.RpcError as e:
        sys.exit(f"{e.code().name}: {e.details()}")
