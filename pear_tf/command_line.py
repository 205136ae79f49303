"""How every command parses its flags and ends on a user's mistake, without importing TensorFlow.

pear_tf/cli.py (the commands' shared flags, which loads TensorFlow) re-exports all of this; a
command that must start without TensorFlow (pear_tf.beam_score: its launcher only builds the
pipeline, its workers load the model) imports this module instead. The console scripts
(pear-train, pear-beam-score, ...) live here too, so that none loads TensorFlow before its
command does. A user's mistake (a bad flag, a pear_tf.errors.UserError) ends the command with
its message and exit status 2; any other exception is a bug and keeps its traceback.
"""

import functools
import runpy
import sys

from absl import app, flags

from pear_tf import errors

# What a command exits with after a user's mistake (argparse's and the shell's usage status).
USER_ERROR_STATUS = 2
HELP_HINT = "Pass --helpshort to see this command's flags."


def exit_with_message(message):
    """Ends the command: ``ERROR: message`` on stderr, exit status 2."""
    print(f"ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(USER_ERROR_STATUS)


def parse_flags(argv, known_only=False):
    """absl's flag parsing, with a bad or missing flag ending the command as a message (exit status 2).

    ``known_only``: leave flags this command does not define in argv (Beam's pipeline options).
    """
    try:
        return flags.FLAGS(argv, known_only=known_only)
    except flags.Error as error:
        exit_with_message(f"{error}\n{HELP_HINT}")


def guard(main):
    """``main`` with the project's errors ending the command as their message (exit status 2).

    pear_tf.errors.UserError and absl's UsageError are a user's mistakes; any other
    exception is a bug and keeps its traceback.
    """

    @functools.wraps(main)
    def guarded(argv):
        try:
            return main(argv)
        except app.UsageError as error:
            exit_with_message(f"{error}\n{HELP_HINT}")
        except errors.UserError as error:
            exit_with_message(str(error))

    return guarded


def _console(command):
    def run():
        # Exactly what `python -m pear_tf.<command>` runs, so --help lists the same flags.
        runpy.run_module(f"pear_tf.{command}", run_name="__main__", alter_sys=True)

    run.__doc__ = f"The pear-{command.replace('_', '-')} console script: python -m pear_tf.{command}."
    return run


# Console scripts (setup.cfg): pear-train, pear-predict, ... beside python -m pear_tf.<command>.
COMMANDS = ("train", "train_prior", "evaluate", "predict", "explain", "export", "serve", "tflite_score", "table1",
            "beam_score", "personalize", "evaluate_personal")  # fmt: skip
(train, train_prior, evaluate, predict, explain, export, serve, tflite_score, table1, beam_score, personalize,
 evaluate_personal) = (_console(name) for name in COMMANDS)  # fmt: skip
