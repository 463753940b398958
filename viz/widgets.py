"""The page's own browser widgets: an ECharts chart, a copy-to-clipboard command line, and the
address bar kept on the run's settings.

Solara's EchartsWidget redraws with ECharts' notMerge on every change, so a zoomed or panned
network springs back at each step, and it cannot carry formatter functions or follow the dark
theme; `Chart` (viz/chart.vue) adds a merged `patch`, named formatters ("fmt:pct" etc.), the
dark theme and click events that name the clicked item's `id`. Both load their scripts from
the installed solara-assets (no CDN). Every chart carries the money rule (viz/money.py) and
saves itself as PNG or SVG under its `filename`.
"""

from __future__ import annotations

from typing import Any

import ipyvuetify
import traitlets

from viz.money import SCALES


class Chart(ipyvuetify.VuetifyTemplate):
    """One ECharts chart; `option` replaces the picture, `patch` is merged into it."""

    template_file = (__file__, "chart.vue")

    option = traitlets.Dict({}).tag(sync=True)
    patch = traitlets.Dict({}).tag(sync=True)
    dark = traitlets.Bool(False).tag(sync=True)
    view = traitlets.Unicode("").tag(sync=True)
    height = traitlets.Unicode("300px").tag(sync=True)
    filename = traitlets.Unicode("").tag(sync=True)  # saved as filename.png / .svg ("": no buttons)
    money_rule = traitlets.List([list(row) for row in SCALES]).tag(sync=True)
    on_click = traitlets.Callable(None, allow_none=True)

    def vue_clicked(self, data: dict[str, Any]) -> None:
        if self.on_click is not None:
            self.on_click(data)


class CopyText(ipyvuetify.VuetifyTemplate):
    """A read-only text (a command line) with a button that copies it to the clipboard."""

    template = traitlets.Unicode(
        """
<template>
  <div class="c401k-copy">
    <pre class="c401k-command" style="white-space: pre-wrap; word-break: break-all; font-size: 11px;
      margin: 4px 0; padding: 4px 6px; border-radius: 4px; background: rgba(128,128,128,0.15)"
      >{{ text }}</pre>
    <v-btn small outlined color="primary" class="c401k-copy-button" @click="copy">
      <v-icon left small>mdi-content-copy</v-icon>{{ copied ? "copied" : label }}
    </v-btn>
  </div>
</template>
<script>
module.exports = {
  data() { return { copied: false }; },
  methods: {
    copy() {
      const done = () => { this.copied = true; setTimeout(() => (this.copied = false), 2000); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(this.text).then(done);
      } else {  // plain http on another host: the old way
        const area = document.createElement("textarea");
        area.value = this.text;
        document.body.appendChild(area);
        area.select();
        document.execCommand("copy");
        document.body.removeChild(area);
        done();
      }
    },
  },
};
</script>
"""
    ).tag(sync=True)
    text = traitlets.Unicode("").tag(sync=True)
    label = traitlets.Unicode("copy").tag(sync=True)


class AddressBar(ipyvuetify.VuetifyTemplate):
    """Keeps the browser's address on `query` (the run's settings and quarter) without reloading
    the page or adding to its history, so a reload or a copied link rebuilds the same run."""

    template = traitlets.Unicode(
        """
<template>
  <span class="c401k-address" style="display: none" :data-query="query"></span>
</template>
<script>
module.exports = {
  mounted() { this.apply(); },
  watch: { query() { this.apply(); } },
  methods: {
    apply() {
      if (this.query == null) return;
      const url = window.location.pathname + (this.query ? "?" + this.query : "") + window.location.hash;
      if (url !== window.location.pathname + window.location.search + window.location.hash)
        window.history.replaceState(window.history.state, "", url);
    },
  },
};
</script>
"""
    ).tag(sync=True)
    query = traitlets.Unicode(None, allow_none=True).tag(sync=True)
