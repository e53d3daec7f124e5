#!/usr/bin/env bash
# Keep the interface translations in step with the code. English is the
# language of the msgids; Vietnamese (the default locale) is the one catalog.
#
#   scripts/i18n.sh extract   collect strings into translations/messages.pot
#   scripts/i18n.sh update    extract, then merge them into the vi catalog
#   scripts/i18n.sh compile   build the .mo files; fails on any catalog error
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRANSLATIONS="translations"
TEMPLATE="$TRANSLATIONS/messages.pot"
LOCALES=(vi)

cd "$ROOT"
if [[ -z "${VIRTUAL_ENV:-}" && -x .venv/bin/pybabel ]]; then
  PATH="$ROOT/.venv/bin:$PATH"
fi
command -v pybabel >/dev/null 2>&1 \
  || { echo "i18n: pybabel not found; activate the venv (. .venv/bin/activate)" >&2; exit 1; }

extract() {
  mkdir -p "$TRANSLATIONS"
  pybabel extract -F babel.cfg \
    -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2 \
    --add-comments=TRANSLATORS: --sort-by-file \
    --project="Thanh Hoa overseas registry" \
    -o "$TEMPLATE.new" . || { rm -f "$TEMPLATE.new"; exit 1; }
  mv "$TEMPLATE.new" "$TEMPLATE"
}

update() {
  extract
  local locale catalog
  for locale in "${LOCALES[@]}"; do
    catalog="$TRANSLATIONS/$locale/LC_MESSAGES/messages.po"
    if [[ -f "$catalog" ]]; then
      pybabel update -i "$TEMPLATE" -d "$TRANSLATIONS" -l "$locale"
    else
      pybabel init -i "$TEMPLATE" -d "$TRANSLATIONS" -l "$locale"
      # A new catalog's header is marked fuzzy, and pybabel compile skips a
      # fuzzy catalog whole; the entries themselves are what need review.
      sed -i '0,/^#, fuzzy$/{/^#, fuzzy$/d}' "$catalog"
    fi
  done
}

compile() {
  local locale catalog compiled
  pybabel compile -d "$TRANSLATIONS" --statistics
  for locale in "${LOCALES[@]}"; do
    catalog="$TRANSLATIONS/$locale/LC_MESSAGES/messages.po"
    compiled="${catalog%.po}.mo"
    if [[ ! -f "$compiled" || "$compiled" -ot "$catalog" ]]; then
      echo "i18n: $catalog was not compiled (errors above, or marked fuzzy)" >&2
      exit 1
    fi
  done
}

case "${1:-}" in
  extract) extract ;;
  update) update ;;
  compile) compile ;;
  *)
    echo "usage: scripts/i18n.sh extract|update|compile" >&2
    exit 2
    ;;
esac
