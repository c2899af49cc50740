"""Registry entries of the PicSys paper heuristics and our own (heuristics/picsys_*.py)."""

from ..family import MethodSpec

METHODS: dict[str, MethodSpec] = {
    "time-heuristic": MethodSpec("optoffload.heuristics.picsys.time_heuristic:time_heuristic", "policy",
                                 "time-heuristic (sec. 5.2, eqs. 11-14, Alg. 1-3); option tokens=true (eq. 18)"),
    "energy-heuristic": MethodSpec("optoffload.heuristics.picsys.time_heuristic:energy_heuristic", "policy",
                                   "energy-heuristic (sec. 5.4, Alg. 4, window eq. 17); option tokens=true"),
    "greedy": MethodSpec("optoffload.heuristics.picsys.time_heuristic:greedy", "policy",
                         "greedy baseline (sec. 6.1): head-image offload-or-local, no cloud queueing"),
}
METHODS["balance"] = MethodSpec("optoffload.heuristics.picsys.balance:balance", "policy",
                                "ours: fluid balance of CPU, uplink and a shared cloud (online)")
METHODS["look-ahead"] = MethodSpec("optoffload.heuristics.picsys.lookahead:look_ahead", "heuristic",
                                   "oracle knowing all truth values (sec. 6): exact optimum where possible, "
                                   "else offline search with a bound")
METHODS["two-stage"] = MethodSpec("optoffload.heuristics.picsys.two_stage:two_stage", "policy",
                                  "PicSys without the Filtering stage (sec. 6.2.5, Fig. 9); decisions carry stages=2")
METHODS["longest-expected"] = MethodSpec("optoffload.heuristics.picsys.two_stage:longest_expected", "baseline",
                                         "ref. [25] adapted to images (sec. 6.2.5, Fig. 10); option stages=2|3")
