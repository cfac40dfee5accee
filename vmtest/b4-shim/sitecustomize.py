# Lets Debian sid's b4 0.16 run with bookworm's python3-pygit2 1.11, which
# predates the pygit2.enums module b4 imports: SortMode, from the constants
# 1.11 has. Loaded through PYTHONPATH by vmtest/send-prep.sh only.
import enum
import sys
import types

try:
    import pygit2
except ImportError:
    pygit2 = None

if pygit2 is not None:
    try:
        import pygit2.enums  # noqa: F401
    except ImportError:
        enums = types.ModuleType('pygit2.enums')

        class SortMode(enum.IntFlag):
            NONE = pygit2.GIT_SORT_NONE
            TOPOLOGICAL = pygit2.GIT_SORT_TOPOLOGICAL
            TIME = pygit2.GIT_SORT_TIME
            REVERSE = pygit2.GIT_SORT_REVERSE

        enums.SortMode = SortMode
        sys.modules['pygit2.enums'] = enums
        pygit2.enums = enums
