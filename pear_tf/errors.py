"""The project's errors a user can put right, and TensorFlow op errors as one line a user can act on.

A ``UserError`` is a mistake in what the user gave (a flag, a data set's layout, a model
folder, a ratings file); its message names the thing and what to do. Every command runs
through ``pear_tf.cli.run``, which prints that message and exits with status 2. Any other
exception is a bug and keeps its traceback. Each kind also derives from the built-in type
callers already catch (ValueError, FileNotFoundError), so library users lose nothing.
"""


class UserError(Exception):
    """A mistake the user can put right; commands print its message and exit with status 2."""


class BadValue(UserError, ValueError):
    """A flag's value, or a file's contents, that cannot be used as given."""


class NotFound(UserError, FileNotFoundError):
    """A path the user named is missing, or does not hold what it should."""


def op_error_summary(message):
    """The cause line of a TF op error, without the graph-execution preamble and node names.

    >>> op_error_summary("Graph execution error:\\n\\nDetected at node x\\nBad JPEG.\\n\\t [[{{node x}}]]")
    'Bad JPEG.'
    """
    noise = ("Graph execution error", "Detected at node", "<stack traces", "[[", "{{function_node", "File ")
    lines = [line.strip() for line in str(message).splitlines()]
    causes = [line for line in lines if line and not line.startswith(noise)]
    if causes:
        return causes[0]
    # Eager errors put the cause after the node name on one line: "{{function_node ...}} cause [Op:...]".
    text = str(message).split("}}")[-1].split("[Op:")[0].strip()
    return text or "undecodable"


class SettingsError(BadValue):
    """Settings that cannot work together (an encoder and its weights, sizes, phases).

    The message names the flags and what to do; a BadValue, so commands print it and exit with status 2.
    """
