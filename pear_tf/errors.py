"""Turning TensorFlow op errors into one line a user can act on."""


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


class SettingsError(ValueError):
    """Settings that cannot work together (an encoder and its weights, sizes, phases).

    The message names the flags and what to do; commands print it and exit with status 2.
    """
