"""Reports that lead straight to the fix, from failures built by hand: grouping by
cause (`group_failures`), advice per kind of failure (`advise`), whole messages
(`error_summary`, `shorten`) and a text table that fits 100 columns. Fast: no
check runs here (`test_report_entries.py` runs them on the zoo)."""

from __future__ import annotations

import dataclasses

import pytest

from lerax_testing import CHECKS
from lerax_testing._checks import REGISTRY
from lerax_testing._explain._advice import GENERIC_ADVICE, advise
from lerax_testing._explain._causes import group_failures
from lerax_testing._explain._failure import Failure
from lerax_testing._explain._report import CheckResult, Report
from lerax_testing._explain._sentences import shorten
from lerax_testing._explain._source import error_summary, message_summary
from lerax_testing._formats import RunResult, render
from lerax_testing._formats._results import Outcome
from lerax_testing._formats._table import WIDTH
from lerax_testing._settings import Settings

AT = ("/project/callbacks.py", 32)
IF = "a Python `if`, `while`, `and`/`or`/`not` or `bool()` on a traced value"
LOOP = "the reference training loop with {} fails: "
GENERIC_SCAN = REGISTRY["scan"].fallback_advice
GENERIC_STRUCTURE = REGISTRY["structure"].fallback_advice
GENERIC_VMAP = REGISTRY["vmap"].fallback_advice
CARRY = (
    "TypeError: scan body function carry input and carry output must have equal "
    "types, but they differ: `carry[0].steps` int32[] -> float32[] (dtypes differ)."
)

PYTHON_IF = [
    Failure(
        "jit",
        "on_step",
        f"`on_step` under `jax.jit` fails at `if ctx.done:`: {IF}.",
        location=AT,
        advice="Choose between values with `jnp.where`.",
    ),
    Failure(
        "vmap",
        "on_step",
        "`on_step` with step states batched over 3 "
        f"environments fails at `if ctx.done:`: {IF}.",
        location=AT,
    ),
    Failure(
        "structure",
        "on_step",
        f"`on_step` could not be checked: tracing it fails at `if ctx.done:`: {IF}.",
        location=AT,
    ),
    Failure(
        "scan",
        None,
        LOOP.format("one environment") + "TracerBoolConversionError: "
        "Attempted boolean conversion of traced array with shape bool[].",
        location=AT,
        advice=GENERIC_SCAN,
    ),
    Failure(
        "scan",
        None,
        LOOP.format("3 environments") + "TracerBoolConversionError: "
        "Attempted boolean conversion of traced array with shape bool[].",
        location=AT,
        advice=GENERIC_SCAN,
    ),
]

DTYPE_DRIFT = [
    Failure(
        "structure",
        "on_step",
        "`on_step` returns a step state unlike the one it "
        "received (a scan carry): `step_state.steps: int32[] -> float32[]`.",
        leaf="step_state.steps",
        expected="int32[]",
        found="float32[]",
        advice=GENERIC_STRUCTURE,
    ),
    Failure("scan", None, LOOP.format("one environment") + CARRY, advice=GENERIC_SCAN),
    Failure("scan", None, LOOP.format("3 environments") + CARRY, advice=GENERIC_SCAN),
    Failure(
        "retrace",
        "on_step",
        "`on_step` was traced and compiled again because its "
        "input changed at `step_state.steps: int32[3] -> float32[3]` (dtype).",
        leaf="step_state.steps",
        advice="Return states whose dtypes match.",
    ),
    Failure(
        "typecheck",
        "on_step",
        "Field `steps` of `Running` (the return value of "
        "`DriftingDtype.on_step`) does not match its annotation.",
        location=("/project/callbacks.py", 44),
        advice="Match the annotation.",
    ),
]

WRONG_CLASS = [
    Failure(
        "types",
        "on_training_end",
        "`on_training_end` returned a Returns, but the "
        "callback declares StateType = Summary.",
        expected="Summary",
        found="Returns",
        advice="Return a `Summary` from `on_training_end`.",
    ),
    Failure(
        "structure",
        "on_training_end",
        "`on_training_end` returns a state unlike "
        "`reset`'s: `state: Summary -> Returns`.",
        leaf="state",
        expected="Summary",
        found="Returns",
        advice=GENERIC_STRUCTURE,
    ),
]


def _raised(check: str, name: str, text: str, line: str = "x = f(ctx)") -> Failure:
    doing = {
        "runs": "",
        "jit": "under `jax.jit` ",
        "structure": "could not be checked: tracing it ",
        "vmap": "with one (unbatched) environment ",
    }
    at = ("/project/callbacks.py", 50)
    if check == "scan":
        message = LOOP.format("one environment") + f"{name}: {text}"
        return Failure("scan", None, message, location=at, advice=GENERIC_SCAN)
    message = f"`on_iteration` {doing[check]}raised {name}: {text} at `{line}`."
    advice = GENERIC_VMAP if check == "vmap" else None
    return Failure(check, "on_iteration", message, location=at, advice=advice)


KEY_ERROR = [
    _raised(c, "KeyError", "'episode_reward'", 'ctx.training_log["episode_reward"]')
    for c in ("runs", "jit", "vmap", "structure", "scan")
]


@pytest.mark.parametrize(
    ("failures", "primary", "also"),
    [
        (PYTHON_IF, "jit", ["vmap", "structure", "scan"]),
        (DTYPE_DRIFT, "structure", ["scan", "retrace", "typecheck"]),
        (WRONG_CLASS, "types", ["structure"]),
        (KEY_ERROR, "runs", ["jit", "vmap", "structure", "scan"]),
    ],
    ids=["python-if", "dtype-drift", "wrong-class", "key-error"],
)
def test_failures_of_one_defect_are_one_cause_under_the_check_that_explains_it(
    failures: list[Failure], primary: str, also: list[str]
) -> None:
    [cause] = group_failures(failures)
    assert cause.failure.check == primary
    assert cause.also_breaks == also
    assert len(cause.others) == len(failures) - 1


def test_a_wrong_class_and_what_reading_it_breaks_are_one_cause() -> None:
    """`on_training_start` returns another class; `on_iteration` then reads a
    field that class lacks: the entry is the class, the read is what it breaks."""
    wrong = Failure(
        "types",
        "on_training_start",
        "`on_training_start` returned a "
        "EmptyCallbackState, but the callback declares StateType = Best.",
        expected="Best",
        found="EmptyCallbackState",
    )
    read = dataclasses.replace(
        _raised(
            "runs",
            "AttributeError",
            "'EmptyCallbackState' object has no attribute 'best'",
            "ctx.state.best",
        ),
        location=("/project/callbacks.py", 61),
    )
    elsewhere = _raised(
        "runs",
        "AttributeError",
        "'Summary' object has no attribute 'best'",
        "ctx.state.best",
    )
    first, second = group_failures([read, wrong, elsewhere])
    assert first.failure.check == "types"
    assert first.also_breaks == ["runs (on_iteration)"]
    assert second.failure.message == elsewhere.message


def test_a_wrong_return_is_one_cause_for_types_and_the_type_checker() -> None:
    types = Failure(
        "types",
        "continue_training",
        "`continue_training` must return a scalar boolean array, got int32[].",
        expected="bool[] (a scalar boolean array)",
        found="int32[]",
    )
    checked = Failure(
        "typecheck",
        "continue_training",
        "The return value of `Cb.continue_training` does not match its annotation.",
        location=("/project/callbacks.py", 23),
    )
    [cause] = group_failures([types, checked])
    assert cause.failure.check == "types"
    assert cause.also_breaks == ["typecheck"]


def test_a_wrong_state_class_and_the_declared_one_returned_later_are_one_cause():
    """`reset` returns the base class; `on_iteration` then returns the declared
    class, which `structure` sees as a change the other way round."""
    wrong = Failure(
        "types",
        "reset",
        "`reset` returned a EpisodeStatsState, but "
        "the callback declares StateType = BestStats.",
        expected="BestStats",
        found="EpisodeStatsState",
    )
    later = Failure(
        "structure",
        "on_iteration",
        "`on_iteration` returns a state "
        "unlike the one it received (a scan carry): `state: "
        "EpisodeStatsState -> BestStats`.",
        leaf="state",
        expected="EpisodeStatsState",
        found="BestStats",
    )
    [cause] = group_failures([wrong, later])
    assert (cause.failure.check, cause.failure.method) == ("types", "reset")


def test_a_leaked_tracer_is_one_cause_however_each_check_words_it() -> None:
    jit = Failure(
        "jit",
        "on_iteration",
        "`on_iteration` under `jax.jit` fails: a "
        "tracer leaked out of a transformation (stored on `self`).",
    )
    vmap = Failure(
        "vmap",
        "on_iteration",
        "`on_iteration` with step states batched "
        "over 3 environments fails: a tracer leaked out of a "
        "transformation (stored on `self`).",
    )
    purity = Failure(
        "purity",
        "on_iteration",
        "`on_iteration` leaks a tracer: it stores a traced value outside its result.",
    )
    [cause] = group_failures([jit, vmap, purity])
    assert cause.failure.check == "jit"
    assert cause.also_breaks == ["vmap", "purity"]


VMAP_MISMATCH = Failure(
    "vmap",
    "on_step",
    "`on_step` under `jax.vmap` over 3 environments differs from "
    "calling it on each environment alone, at `step_state.score`.",
    leaf="step_state.score",
)


def test_randomness_outside_the_key_is_one_cause_for_vmap_and_purity() -> None:
    vmap = VMAP_MISMATCH
    purity = Failure(
        "purity",
        "on_step",
        "`on_step` gives different results for "
        "the same inputs and key when called eagerly twice, at "
        "`output.score`.",
        leaf="output.score",
    )
    other = dataclasses.replace(
        purity,
        method="on_iteration",
        leaf="output.total",
        message=purity.message.replace("on_step", "on_iteration"),
    )
    first, second = group_failures([vmap, purity, other])
    assert first.failure.check == "purity"
    assert first.also_breaks == ["vmap"]
    assert second.failure.leaf == "output.total"


def test_a_global_random_draw_explains_the_methods_vmap_mismatch() -> None:
    draws = Failure(
        "purity",
        "on_step",
        "`on_step` draws from NumPy's global "
        "`np.random`: under `jax.jit` it draws once.",
    )
    vmap = VMAP_MISMATCH
    [cause] = group_failures([vmap, draws])
    assert cause.failure.check == "purity"
    assert cause.also_breaks == ["vmap"]


def test_different_defects_stay_apart() -> None:
    causes = group_failures([*PYTHON_IF, *DTYPE_DRIFT[:1], *KEY_ERROR[:1]])
    assert [c.failure.check for c in causes] == ["jit", "structure", "runs"]


def test_another_method_is_named_in_also_breaks() -> None:
    other = Failure(
        "structure",
        "on_training_end",
        "`on_training_end` returns a "
        "state unlike `on_training_start`'s: "
        "`state.steps: int32[] -> float32[]`.",
        leaf="state.steps",
        expected="int32[]",
        found="float32[]",
    )
    [cause] = group_failures([DTYPE_DRIFT[0], other])
    assert cause.also_breaks == ["structure (on_training_end)"]


def test_grouping_keeps_the_per_check_data() -> None:
    results = (
        CheckResult("jit", "failed", (PYTHON_IF[0],)),
        CheckResult("vmap", "failed", (PYTHON_IF[1],)),
    )
    report = Report("Cb()", "m.Cb", None, results, seed=3)
    assert [r["status"] for r in report.to_dict()["results"]] == ["failed", "failed"]
    text = report.render()
    assert text.count("fails at `if ctx.done:`") == 1
    assert "also breaks: vmap" in text


# ------------------------------------------------------------------ advice


def _env_attribute() -> Failure:
    return _raised(
        "runs",
        "AttributeError",
        "'ToyEnv' object has no attribute 'action_space'",
        "n = ctx.env.action_space.n",
    )


ADVICE_CASES = [
    ("tracer-conversion", PYTHON_IF[3], "`jnp.where(cond, a, b)`"),
    # An integer leaf that float updates turn into a float: declared a float,
    # as casting back would truncate every fractional update.
    ("dtype-drift", DTYPE_DRIFT[0], "Declare `steps` as a float"),
    ("dtype-drift-in-loop", DTYPE_DRIFT[1], "`jnp.zeros((), jnp.float32)`"),
    (
        "float-drift",
        Failure(
            "x64",
            "on_step",
            "with `jax_enable_x64` on, `on_step` returns a step state unlike the "
            "one it received (a scan carry): `step_state.ret: float32[] -> "
            "float64[]`.",
            leaf="step_state.ret",
            expected="float32[]",
            found="float64[]",
        ),
        "cast every update back (`new.astype(jnp.float32)`)",
    ),
    ("wrong-class", WRONG_CLASS[1], "Return a `Summary` from `on_training_end`"),
    ("env-attribute", _env_attribute(), "`check_callback(cb, env=MyEnv()"),
    (
        "leaked-tracer",
        Failure(
            "jit",
            "on_step",
            "`on_step` under `jax.jit` fails at `self.x.append(v)`: a tracer leaked "
            "out of a transformation (stored on `self`, in a global or in a "
            "container outside the method).",
        ),
        "instead of storing it",
    ),
    (
        "nan",
        Failure(
            "finite",
            "on_iteration",
            "`on_iteration` returns NaN at `state.mean`.",
            advice="Guard divisions and logs.",
        ),
        "Guard divisions",
    ),
    (
        "attribute",
        _raised("runs", "AttributeError", "'Returns' object has no attribute 'total'"),
        "`Returns` objects have no attribute `total`",
    ),
    ("key", KEY_ERROR[0], "`ctx.training_log.get('episode_reward', default)`"),
    ("key-in-loop", KEY_ERROR[4], "Check that 'episode_reward' exists"),
    ("type", _raised("runs", "TypeError", "unsupported operand"), "`jnp.asarray"),
    (
        "zero-division",
        _raised("runs", "ZeroDivisionError", "division by zero"),
        "guard the divisor",
    ),
    (
        "index-unbatched",
        _raised(
            "vmap",
            "IndexError",
            "Too many indices: array is 0-dimensional, but 1 were indexed",
        ),
        "no environment axis",
    ),
    ("other-exception", _raised("runs", "LookupError", "nope"), "raise `LookupError`"),
    (
        "env-axis-in-iteration",
        _raised(
            "runs",
            "IndexError",
            "tuple index out of range",
            "n = ctx.step_state.total.shape[0]",
        ),
        "gets the step states unbatched",
    ),
    (
        "env-axis-in-step",
        dataclasses.replace(
            _raised(
                "runs",
                "IndexError",
                "tuple index out of range",
                "n = ctx.reward.shape[0]",
            ),
            method="on_step",
        ),
        "one environment's arrays",
    ),
    (
        "ordered-host-callback",
        _raised("vmap", "ValueError", "Cannot `vmap` ordered IO callback."),
        "`ordered=False`",
    ),
    (
        "state-took-env-axis",
        Failure(
            "structure",
            "on_iteration",
            "`on_iteration` "
            "returns a state unlike the one it received (a scan carry): `state.last: "
            "float32[] -> float32[3]`.",
            leaf="state.last",
            expected="float32[]",
            found="float32[3]",
            advice=GENERIC_STRUCTURE,
        ),
        "Reduce over environments",
    ),
    (
        "numpy-for-jax",
        Failure(
            "typecheck",
            "step_reset",
            "Field `ret` of `Ret` does not match its annotation.",
            expected="`Float[Array, '']`: an array of shape ()",
            found="an instance of `numpy.ndarray` of shape () and dtype float32",
            advice="Make the value match its annotation.",
        ),
        "`jnp.zeros((), jnp.float32)`",
    ),
    (
        "vmap-over-no-axis",
        _raised(
            "vmap",
            "ValueError",
            "vmap was requested to map its argument along axis 0, which implies "
            "that its rank should be at least 1, but is only 0",
        ),
        "no environment axis to `jax.vmap` over",
    ),
    (
        "growing-buffer",
        Failure(
            "structure",
            "on_step",
            "`on_step` returns a step "
            "state unlike the one it received (a scan carry): `step_state.seen: "
            "float32[2] -> float32[3]`.",
            leaf="step_state.seen",
            expected="float32[2]",
            found="float32[3]",
            advice=GENERIC_STRUCTURE,
        ),
        "fixed-size buffer",
    ),
]


@pytest.mark.parametrize(
    ("failure", "words"),
    [case[1:] for case in ADVICE_CASES],
    ids=[case[0] for case in ADVICE_CASES],
)
def test_every_kind_of_failure_gets_advice_matched_to_it(
    failure: Failure, words: str
) -> None:
    advice = advise(failure)
    assert advice is not None
    assert words in advice
    assert not advice.startswith(GENERIC_ADVICE)


def test_a_checks_specific_advice_is_kept() -> None:
    assert advise(PYTHON_IF[0]) == PYTHON_IF[0].advice
    assert advise(WRONG_CLASS[0]) == WRONG_CLASS[0].advice


# ---------------------------------------------------------- whole messages

JAX_CARRY = """scan body function carry input and carry output must have equal types, \
but they differ:

The input carry component carry[0].steps has type int32[] but the corresponding \
output carry component has type float32[], so the dtypes do not match.

Revise the function so that all output types match the corresponding input types."""

JAX_VERIFIER = """Cannot lower jaxpr with verifier errors:
\top operand #0 must be tensor of pred values, but got 'tensor<f32>'
\t\tat loc("jit(step)/cond")
Define JAX_DUMP_IR_TO to dump the module."""


def test_carry_type_errors_show_the_differing_leaves() -> None:
    summary = error_summary(TypeError(JAX_CARRY))
    assert summary == CARRY
    assert "`carry[0].steps` int32[] -> float32[]" in summary


def test_verifier_errors_show_what_failed_verification() -> None:
    summary = message_summary(JAX_VERIFIER)
    assert summary.startswith("Cannot lower jaxpr with verifier errors: op operand")
    assert not summary.endswith(":")


@pytest.mark.parametrize(
    "text",
    [
        JAX_CARRY,
        JAX_VERIFIER,
        "Something went wrong:",
        "First sentence. " * 40 + "And a last one with no end",
        "word " * 400,
    ],
    ids=["carry", "verifier", "colon", "many-sentences", "one-long-sentence"],
)
def test_messages_are_never_cut_mid_sentence_nor_end_on_a_colon(text: str) -> None:
    summary = error_summary(ValueError(text), limit=300)
    assert not summary.endswith(":")
    short = shorten(text, 120)
    assert not short.endswith(":")
    if len(" ".join(text.split())) > 120 and "." in text:
        assert short.endswith(".")


# ------------------------------------------------------------------- text


def _outcome(name: str, statuses: dict[str, str]) -> Outcome:
    results = tuple(
        CheckResult(c, statuses.get(c, "passed"), seconds=12.5) for c in CHECKS
    )
    report = Report(name, f"m.{name}", None, results, seed=1)
    status = "failed" if "failed" in statuses.values() else "passed"
    return Outcome(name, "m", status, report)


def test_the_table_fits_100_columns_and_shows_times() -> None:
    long = "examples/very/deeply/nested/package/with/a/long/module_name.py:"
    outcomes = [
        _outcome(long + "PythonIfOnDone", {"jit": "failed"}),
        _outcome(long + "AVeryLongCallbackClassNameThatGoesOnAndOn", {}),
        Outcome(long + "Broken", "m", "error", reason="ImportError: " + "x " * 80),
    ]
    text = render("text", RunResult(outcomes, Settings(seed=1), seconds=321.0))
    assert max(map(len, text.splitlines()[:9])) <= WIDTH, text
    assert f"callbacks in {long[:-1]}\n" in text
    assert "strc = structure" in text
    assert "Checked in 321s." in text
    one = render("text", RunResult(outcomes[:1], Settings(seed=1)))
    assert "  jit           FAIL    12.5s" in one
    assert f"  total                 {12.5 * len(CHECKS):.0f}s" in one
    assert max(map(len, one.splitlines()[:20])) <= WIDTH
