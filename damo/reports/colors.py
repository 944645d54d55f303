"""The colour sets of damo's terminal heatmaps and access-frequency legends
(256-colour backgrounds and foregrounds by level, as damo 3.4.3 has them).

Apart from damo.reports.heatmap: report access colours its text with them, and
report heatmap's options name them, before a recording is read.
"""
COLORSETS = {
    "gray": ([232] * 10, [237, 239, 241, 243, 245, 247, 249, 251, 253, 255]),
    "flame": ([232, 1, 1, 2, 3, 3, 20, 21, 26, 27, 27],
              [239, 235, 237, 239, 243, 245, 247, 249, 251, 255]),
    "emotion": ([232, 234, 20, 21, 26, 2, 3, 1, 1, 1],
                [239, 235, 237, 239, 243, 245, 247, 249, 251, 255]),
}
MAX_LEVEL = 9
COLOR_END = "\x1b[0m"


def color_start(colorset, level):
    bg, fg = COLORSETS[colorset]
    return "\x1b[48;5;%dm\x1b[38;5;%dm" % (bg[level], fg[level])


def color_samples(colorset):
    """The coloured '0123456789' legend."""
    return "".join(color_start(colorset, lv) + "%d" % lv
                   for lv in range(MAX_LEVEL + 1)) + COLOR_END
