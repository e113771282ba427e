"""Shared input checks (infodyn.errors): seeds NumPy cannot use and option types are one
InputError naming what is wrong."""

import errno
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pytest

from infodyn.errors import (
    InputError,
    as_array,
    check_option_type,
    class_labels,
    make_rng,
    reading,
    refuse_bool_number,
    require_choices,
    require_finite,
    require_finite_number,
    require_flag,
    whole_number,
    writing,
)


@pytest.mark.parametrize("bad", [-1, 1.5, float("nan"), True, "7", [-3, 1]])
def test_make_rng_refuses_what_numpy_cannot_seed(bad):
    # branching_ratio(seed=-1) raised NumPy's "expected non-negative integer"
    with pytest.raises(InputError, match="seed must be a whole number >= 0"):
        make_rng(bad)


def test_make_rng_accepts_what_numpy_accepts():
    g = np.random.default_rng(5)
    assert make_rng(g) is g
    assert make_rng(7).random() == np.random.default_rng(7).random()
    assert make_rng(np.int64(7)).random() == np.random.default_rng(7).random()
    assert make_rng([7, 2]).random() == np.random.default_rng([7, 2]).random()
    assert make_rng(2**70).random() == np.random.default_rng(2**70).random()
    assert isinstance(make_rng(None), np.random.Generator)


@pytest.mark.parametrize(
    ("value", "annotation", "message"),
    [
        (1e99, "int", "whole number"),
        (True, "int", "whole number"),
        ("20", "int", "whole number"),
        (float("nan"), "float", "finite number"),
        ("text", float, "finite number"),
        (False, "float", "finite number"),
    ],
)
def test_check_option_type(value, annotation, message):
    with pytest.raises(InputError, match=f"opt must be a {message}"):
        check_option_type("opt", value, annotation)
    check_option_type("opt", 3, "int")
    check_option_type("opt", 3, "float")
    check_option_type("opt", "anything", "str")


@pytest.mark.parametrize("bad", [2.5, float("nan"), True, "3", -1, 2**70])
def test_whole_number_refuses_fractions_nan_bools_and_out_of_range(bad):
    from infodyn.errors import whole_number

    with pytest.raises(InputError, match="kmax must be"):
        whole_number(bad, "kmax")
    assert whole_number(np.int64(4), "kmax") == 4 and type(whole_number(4, "k")) is int


def test_whole_number_accepts_its_bounds():
    assert whole_number(0, "k") == 0
    assert whole_number(3, "k", minimum=3, maximum=3) == 3
    assert whole_number(2**63 - 1, "k") == 2**63 - 1
    with pytest.raises(InputError, match="k must be at most 3, got 4"):
        whole_number(4, "k", maximum=3)


def test_require_finite_refuses_complex_nan_and_inf():
    with pytest.raises(InputError, match="z contains NaN or inf"):
        require_finite("z", np.array([1 + 0j, complex(np.nan, 0)]))
    require_finite("z", np.array([1 + 2j]))
    require_finite("n", np.array([1, 2]))


def test_require_finite_number_refuses_inf():
    # "3" and True were read by float() as 3.0 and 1.0
    for bad in (float("inf"), -np.inf, float("nan"), "x", None, "3", True, np.bool_(False)):
        with pytest.raises(InputError, match="rate must be a finite number"):
            require_finite_number("rate", bad)
    for good in (2, 2.5, np.float32(2.0), np.int64(3), np.array(4.0)):
        require_finite_number("rate", good)


def test_as_array_names_a_ragged_list():
    # NumPy: "setting an array element with a sequence. The requested array has an
    # inhomogeneous shape after 1 dimensions..."
    with pytest.raises(InputError, match=r"J must be a rectangular array of numbers .* \[\[1, 2\]"):
        as_array([[1, 2], [3]], "J")
    with pytest.raises(InputError, match="rates must be a rectangular array of values of type"):
        as_array(["a"], "rates", dtype=float)
    np.testing.assert_array_equal(as_array([[1, 2]], "J"), [[1, 2]])


@pytest.mark.parametrize("bad", ["no", "false", "a", float("nan"), -1, None, {}, np.array([])])
def test_require_flag_takes_only_true_and_false(bad):
    # read by truthiness, "no" and NaN were true and {} false; np.array([]) a raw ValueError
    with pytest.raises(InputError, match="copula must be true or false"):
        require_flag("copula", bad)
    assert require_flag("copula", np.bool_(True)) is True and require_flag("c", False) is False


def test_class_labels_refuses_negative_labels():
    with pytest.raises(InputError, match="stim must be whole numbers >= 0"):
        class_labels([0, -1, 2], "stim")
    with pytest.raises(InputError, match="stim must be whole numbers >= 0"):
        class_labels([0.0, -2.0], "stim")
    assert class_labels([0.0, 2.0]).tolist() == [0, 2]


def test_refuse_bool_number_refuses_text_and_bools_in_tables():
    with pytest.raises(ValueError, match="text is not a number"):
        refuse_bool_number(int, "20")
    with pytest.raises(ValueError, match="text is not a number"):
        refuse_bool_number(float | None, "1.5")
    assert refuse_bool_number(str, "20") == "20"
    with pytest.raises(ValueError, match="true/false is not a number"):
        refuse_bool_number(dict[str, float], {"a": 1.0, "b": True})
    with pytest.raises(ValueError, match="true/false is not a number"):
        refuse_bool_number(list[int], [1, False])
    assert refuse_bool_number(dict[str, float], {"a": 1.0}) == {"a": 1.0}
    assert refuse_bool_number(bool | int, True) is True


@dataclass
class _Opts:
    optimizer: Literal["sgd", "adam"] = "sgd"
    mode: Literal["a"] | None = None


def test_require_choices_names_field_value_and_choices():
    require_choices(_Opts())
    require_choices(_Opts("adam", "a"))
    with pytest.raises(
        InputError, match=r"_Opts\.optimizer must be one of 'sgd', 'adam'; got 'foo'"
    ):
        require_choices(_Opts("foo"))
    with pytest.raises(InputError, match=r"_Opts\.mode must be one of 'a', None; got 'b'"):
        require_choices(_Opts("sgd", "b"))


def test_check_option_type_bool_must_be_true_or_false():
    for bad in ("no", 0, 1):
        with pytest.raises(InputError, match="flag must be true or false"):
            check_option_type("flag", bad, "bool")
    check_option_type("flag", False, bool)
    check_option_type("flag", np.bool_(True), "bool")


def test_reading_says_what_went_wrong_and_keeps_input_errors(tmp_path):
    target = tmp_path / "c.npz"
    with pytest.raises(
        InputError,
        match=r"c\.npz: cannot read this checkpoint: permission "
        r"denied; rerun it$",
    ):
        with reading(target, "checkpoint", advice="rerun it"):
            raise PermissionError(errno.EACCES, "Permission denied")
    with pytest.raises(InputError, match=r"c\.npz: cannot read this file: no such file$"):
        with reading(target):
            raise FileNotFoundError(errno.ENOENT, "nope")
    with pytest.raises(InputError) as err:
        with reading(target):
            raise InputError("the original message")
    assert str(err.value) == "the original message"


def test_reading_a_garbage_npz_does_not_suggest_unpickling_it(tmp_path):
    # NumPy's ValueError said "If you trust the file you can load it unsafely using the
    # allow_pickle= keyword": a garbage checkpoint got that advice
    import numpy as np

    target = tmp_path / "c.npz"
    target.write_text("garbage\n")
    with pytest.raises(InputError) as err:
        with reading(target, "checkpoint"):
            np.load(target, allow_pickle=False)
    message = str(err.value)
    assert "not an NPZ archive of plain arrays" in message and "unsafely" not in message
    assert "read it as pickled" not in message  # text is no pickle: the reason was wrong


def test_writing_names_the_path_when_the_error_has_none(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(InputError) as err:
        with writing(target):
            raise OSError(errno.ENOSPC, "No space left on device")
    assert (
        str(err.value)
        == f"{target}: no space left on the device; free some space or choose another location"
    )


def test_check_option_type_huge_int_for_float_is_an_input_error():
    with pytest.raises(InputError, match="temperature must be a finite number"):
        check_option_type("temperature", 10**400, float)


def test_require_finite_number_huge_int_is_an_input_error():
    with pytest.raises(InputError, match="rate must be a finite number"):
        require_finite_number("rate", 10**400)


@pytest.mark.parametrize("bad", [np.array([2**64 - 1], dtype=np.uint64), [1e300]])
def test_class_labels_beyond_int64_are_refused_not_wrapped(bad):
    with pytest.raises(InputError, match="labels must be whole numbers >= 0"):
        class_labels(bad)


def test_messages_show_numpy_scalars_as_numbers():
    """NumPy 2 prints np.int64(-5) for a count read from a file: the user never wrote that."""
    from infodyn.data.spike_files import check_count
    from infodyn.errors import shown, whole_number

    assert shown(np.int64(-5)) == "-5" and shown(np.float32(2.5)) == "2.5" and shown("a") == "'a'"
    with pytest.raises(InputError, match=r"n_units must be a whole number in \[1, 10\], got -5$"):
        check_count("n_units", np.int64(-5), 10)
    with pytest.raises(InputError, match=r"n must be a whole number >= 1, got 0$"):
        whole_number(np.uint8(0), "n", minimum=1)


def test_require_fails_a_condition_without_a_truth_value():
    from infodyn.errors import require

    with pytest.raises(InputError, match="ci must be in"):
        require(np.array([]) > 0, "ci must be in (0, 1)")  # NumPy: "ambiguous" ValueError
    with pytest.raises(InputError, match="ci must be in"):
        require(np.array([0.5, 0.9]) > 0, "ci must be in (0, 1)")
    require(np.bool_(True), "never")


def test_zero_d_arrays_and_numpy_strings_are_numbers_flags_and_choices():
    # np.array(2.0), jnp.float32(1) and np.str_("plugin") were refused by the new checks
    import jax.numpy as jnp

    from infodyn.errors import is_choice, is_finite_number

    assert is_finite_number(np.array(2.0)) and is_finite_number(jnp.float32(1.0))
    assert not is_finite_number(np.array(True)) and not is_finite_number(np.array("3"))
    assert require_flag("f", np.array(True)) is True
    assert is_choice(np.str_("plugin"), ("plugin", "mm")) and not is_choice(np.array([]), ("a",))


def test_a_scipy_sparse_matrix_is_refused_with_the_advice_to_densify_it():
    """entropy said "got objects" and transfer_entropy "got shape ()" (NumPy made a 0-d object
    array of the matrix)."""
    import scipy.sparse as sp

    import infodyn.information as I

    x = sp.csr_matrix(np.eye(5, dtype=int))
    for call in (lambda: I.entropy(x), lambda: I.transfer_entropy(x, x)):
        with pytest.raises(InputError, match=r"SciPy sparse csr matrix; .*pass its .toarray\(\)"):
            call()


def test_a_masked_array_with_masked_entries_is_refused():
    """np.asarray dropped the mask: masked entries (99 here) were counted as symbols, and the
    information came out 0.47 bits where the valid rows give 0.59."""
    import infodyn.information as I

    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, 200)
    y = (x + rng.integers(0, 2, 200)) % 3
    bad = x.copy()
    bad[:40] = 99
    masked = np.ma.masked_equal(bad, 99)
    for call in (lambda: I.mutual_information(masked, y), lambda: I.entropy(masked)):
        with pytest.raises(InputError, match="masked array with masked entries"):
            call()
    # nothing masked: the data as they are
    assert I.mutual_information(np.ma.masked_array(x), y) == I.mutual_information(x, y)


def test_a_whole_float_is_told_to_be_an_int():
    """The message "bin_steps must be a whole number >= 1, got 2.0" puzzled: 2.0 is whole."""
    with pytest.raises(InputError, match=r"got 2\.0 \(a float: give the int 2\)$"):
        whole_number(2.0, "bin_steps", minimum=1)
    with pytest.raises(InputError, match=r"got -3\.0$"):  # below the minimum: no such advice
        whole_number(-3.0, "bin_steps", minimum=1)
