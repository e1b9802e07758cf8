#!/usr/bin/env bash
# Property-based API test: schemathesis over /api/v1/openapi.json against a real server.
#
# Starts gunicorn (production settings, DEBUG off) on a throw-away data folder with the
# demo data, takes a token for the demo township admin, runs every check schemathesis has
# and exits non-zero on any server error or schema violation. The server is always stopped.
#
# Env: SCHEMATHESIS_PORT (default: a free port), SCHEMATHESIS_EXAMPLES (default 30),
#      SCHEMATHESIS_SEED (default: random; printed, so a failure can be replayed),
#      DATABASE_URL (default: SQLite in the temporary data folder; an empty PostgreSQL
#      database works too). Extra arguments go to `schemathesis run`, for example
#      .ci/schemathesis.sh --include-path-regex '^/api/v1/residents'
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
ST=.venv/bin/schemathesis
HOST=127.0.0.1
EXAMPLES=${SCHEMATHESIS_EXAMPLES:-30}

WORK=$(mktemp -d /tmp/xiangzhi-schemathesis.XXXXXX)
export XIANGZHI_DATA_DIR="$WORK/data"
export DEBUG=0
export ALLOWED_HOSTS="$HOST"
export LOG_LEVEL=WARNING
SERVER_PID=""

cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -s "$WORK/server.log" ]; then
    echo "---- server log (last 60 lines) ----"
    tail -n 60 "$WORK/server.log"
  fi
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$rc"
}
trap cleanup EXIT INT TERM

# A port the kernel says is free right now (8765 and friends are often taken by a developer's
# `make run`); the server log must then show that *our* gunicorn bound it.
PORT=${SCHEMATHESIS_PORT:-$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
BASE="http://$HOST:$PORT"

echo "== data: migrate, regions, demo (${DATABASE_URL:+PostgreSQL}${DATABASE_URL:-SQLite}) =="
$PY manage.py migrate --noinput -v0
$PY manage.py collectstatic --noinput -v0  # the HTML 404/500 pages need the static manifest
if $PY manage.py help load_demo >/dev/null 2>&1; then
  $PY manage.py load_demo >/dev/null
  USERNAME=baitafan_admin
  PASSWORD='Demo@2026xz'
else
  $PY manage.py import_regions >/dev/null
  USERNAME=schemathesis_admin
  PASSWORD='St@2026xz-api'
  $PY manage.py shell -v 0 -c "
from xiangzhi.accounts import services
from xiangzhi.accounts.models import User
if not User.objects.filter(username='$USERNAME').exists():
    u = services.user_create(actor=None, username='$USERNAME', password='$PASSWORD', area_code='341524111')
    services.assignment_add(actor=None, user=u, area_code='341524111', role='township_admin')
"
fi

echo "== server: gunicorn on $BASE =="
.venv/bin/gunicorn xiangzhi.wsgi:application --bind "$HOST:$PORT" --workers 2 --threads 2 --timeout 60 \
  --access-logfile /dev/null --error-logfile - >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 150); do
  kill -0 "$SERVER_PID" 2>/dev/null || { echo "server did not start (port $PORT taken?)"; exit 1; }
  grep -q "Listening at: $BASE ($SERVER_PID)" "$WORK/server.log" && break
  sleep 0.2
done
grep -q "Listening at: $BASE ($SERVER_PID)" "$WORK/server.log" || { echo "server did not bind $BASE"; exit 1; }
$PY - "$BASE" <<'PY'
import sys, time, urllib.request
for attempt in range(50):
    try:
        urllib.request.urlopen(sys.argv[1] + "/api/v1/openapi.json", timeout=5).read()
        break
    except OSError:
        time.sleep(0.2)
else:
    sys.exit("the API schema is not served")
PY

TOKEN=$($PY - "$BASE" "$USERNAME" "$PASSWORD" <<'PY'
import json, sys, urllib.request
base, username, password = sys.argv[1:4]
req = urllib.request.Request(
    base + "/api/v1/auth/token",
    data=json.dumps({"username": username, "password": password}).encode(),
    headers={"Content-Type": "application/json"},
)
print(json.load(urllib.request.urlopen(req, timeout=10))["token"])
PY
)
[ -n "$TOKEN" ] || { echo "no token"; exit 1; }

# Check configuration (schemathesis 4.x reads it from a TOML file):
# * positive_data_acceptance: schema-valid requests may still break a business rule the
#   JSON Schema cannot express — a GB 11643 check digit, a unique household number or ID,
#   an area code that is well formed but no village of ours, a head already present. Those
#   answer 400 with Chinese field messages (tested in pytest), so 400 is an accepted answer
#   to valid-looking data. 422 is NOT accepted: a 422 for schema-valid data would mean the
#   published schema is looser than the server, which is exactly what we want to catch.
#   429: the public intake/tracking operations are rate-limited per IP (declared 429).
cat >"$WORK/schemathesis.toml" <<'TOML'
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "401", "403", "404", "409", "429"]
TOML

# Realistic values, drawn half of the time, so that generated requests reach real rows
# (in scope: 白塔畈镇; out of scope: 古碑镇) instead of stopping at 404: household and
# resident ids, grid codes, region codes and full ID numbers for the lookup.
$PY manage.py shell -v 0 -c "
import json
from xiangzhi.residents.models import Household, Resident
from xiangzhi.residents.services import resident_plain
from xiangzhi.org.models import Region
inside, outside = '341524111', '341524105'
def ids(model, prefix, n):
    return list(model.objects.filter(area_code__startswith=prefix).order_by('id').values_list('id', flat=True)[:n])
households = ids(Household, inside, 8) + ids(Household, outside, 2)
residents = Resident.objects.filter(area_code__startswith=inside).order_by('id')[:8]
resident_ids = [r.pk for r in residents] + ids(Resident, outside, 2)
id_numbers = [v for v in (resident_plain(r)['id_number'] for r in residents) if v]
grids = list(Region.objects.filter(code__startswith=inside, level='grid').values_list('code', flat=True)[:6])
grids += list(Region.objects.filter(code__startswith=outside, level='grid').values_list('code', flat=True)[:2])
regions = ['341524', inside, outside, '341524112', '341524111206'] + grids[:1]
def dictionary(name, values):
    print(f'[dictionaries.{name}]')
    print('values = ' + json.dumps(values))
dictionary('household_ids', households)
dictionary('resident_ids', resident_ids)
dictionary('grids', grids)
dictionary('regions', regions)
dictionary('id_numbers', id_numbers)
print('[parameters]')
for key, name in [('path.household_id', 'household_ids'), ('query.household', 'household_ids'),
                  ('body.household', 'household_ids'), ('path.resident_id', 'resident_ids'),
                  ('body.area_code', 'grids'), ('query.area_code', 'grids'), ('path.code', 'regions'),
                  ('body.id_number', 'id_numbers')]:
    print(f'\"{key}\" = {{ dictionary = \"{name}\", probability = 0.5 }}')
" >>"$WORK/schemathesis.toml"

SEED_ARGS=()
if [ -n "${SCHEMATHESIS_SEED:-}" ]; then SEED_ARGS=(--seed "$SCHEMATHESIS_SEED"); fi

echo "== schemathesis: --checks all, $EXAMPLES examples per operation =="
# --generation-database none: no example database left behind in the tree.
# 1 worker: a small SQLite server, and failures are easier to read in order.
$ST --config-file "$WORK/schemathesis.toml" run "$BASE/api/v1/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks all \
  --max-examples "$EXAMPLES" \
  --workers 1 \
  --request-timeout 30 \
  --generation-database none \
  --no-color \
  "${SEED_ARGS[@]+"${SEED_ARGS[@]}"}" \
  "$@"
