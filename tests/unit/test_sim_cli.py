"""``hinode simulate modbus``: bad input is one line on stderr and exit status 2."""

import pytest
from typer.testing import CliRunner

from hinode.commands.simulate import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["sdm999"], "error: unknown model 'sdm999'; expected one of sdm630, sdm120"),
        (["sdm630", "--port", "5020", "--serial", "/dev/null"], "error: give either --port"),
        (["sdm630", "--load", "farm"], "error: unknown --load 'farm'"),
        (["sdm630", "--transport", "ascii"], "error: unknown --transport 'ascii'"),
        (["sdm630", "--unit", "0"], "error: --unit must be 1-255 here, got 0"),
        (["sdm630", "--transport", "rtu_over_tcp", "--unit", "250"], "error: --unit must be 1-247"),
        (["sdm630", "--speed", "0"], "error: --speed must be positive, got 0.0"),
        (
            ["keba_p30", "--serial", "/dev/null", "--transport", "rtu_over_tcp"],
            "error: --transport",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["modbus", *arguments])
    assert result.exit_code == 2
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""
