"""Mesa's conventional entry file: `solara run app.py` (or `crypto401k viz`) serves the page.

The page lives in the `viz` package (viz/page.py: the page; viz/sidebar.py and viz/views.py:
its sidebar and main pane; viz/charts.py: the pictures; viz/session.py: each page's model;
viz/registry.py: the server's live models, their cap and release; viz/settings.py and
viz/sharing.py: settings, the address, the command line and file names; viz/follow.py: the
inspector; viz/ensemble.py and viz/workers.py: comparisons on seeds in worker processes;
viz/export.py: the run's files; viz/money.py: how money is written).

Importing the model and the page and building the first page's model take two or three
seconds; they run in a background thread while the server starts, so the server answers at once
and the first page waits only for what is left of that work.
"""

import importlib
import threading
import warnings

import reacton.utils
import solara

import viz.lifecycle
import viz.registry  # Solara's kernel hooks, registered before the first page's kernel

# On plain http Solara warns at every page load that it falls back to a samesite=lax session
# cookie, which is what a page served on this machine wants; the warning is noise in the log.
warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)


def _load() -> None:
    importlib.import_module("viz.page")
    importlib.import_module("viz.session").prepare()  # the first page's model, built ahead


# While the thread imports pandas, reacton may look up pandas.DataFrame (for any use_state) in
# the half-imported module and fail; nothing can be a DataFrame before pandas is imported, so
# such a lookup answers "no such type".
_import_item = reacton.utils.import_item


def _import_item_while_loading(name: str):
    try:
        return _import_item(name)
    except AttributeError:
        return None


reacton.utils.import_item = _import_item_while_loading

viz.lifecycle.watch_parent()
_loading = threading.Thread(target=_load, daemon=True, name="crypto401k-page-import")
_loading.start()


@solara.component
def Page():
    """The crypto401k page (viz/page.py), once its import has finished."""
    _loading.join()
    from viz.page import Page as CryptoPage

    return CryptoPage()
