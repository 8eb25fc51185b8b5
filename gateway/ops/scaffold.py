"""A configuration directory from scratch: what ``gateway init DIR`` writes.

The files are the documentation an operator reads first, so each says what it is for, what
to change and where secrets go. They are valid as written (``gateway check --offline``
passes), and the example partner points at a host under ``.invalid`` so that nothing is
contacted until the operator fills in a real one.
"""

from __future__ import annotations

from pathlib import Path

from gateway.errors import ConfigError
from gateway.store.crypt.keys import write_key_file

PAYLOAD_KEY = "keys/payload.key"  # the payload archive's key, apart from data/

GATEWAY_TOML = """\
# The gateway daemon's own settings. Trading partners, the PSAO's envelope identity and the
# member roster live in the partners directory (partners/psao.toml, partners/pbms/*.toml,
# partners/destinations/*.toml, partners/members.csv). Relative paths are relative to this
# file's directory. Check with: gateway check --config {config}

[gateway]
# The message store: SQLite for one daemon, PostgreSQL for several sharing the work, e.g.
# store = "postgresql://gateway@db.internal/gateway"
store = "sqlite:///data/gateway.db"
data_dir = "data"                    # work space for fetches (same file system as the store)
partners_dir = "partners"
workers = 2                          # delivery workers
lease_seconds = 60                   # a crashed worker's delivery is redone after this
timezone = "America/New_York"        # of the partners' poll windows

[encryption]
# Payloads (every file received, every part delivered) are kept encrypted: AES-256-GCM under a
# data key per payload, wrapped by this key. `gateway init` made the key, mode 0600, outside
# the data directory. Back it up apart from the data (a backup of the data is useless without
# it, and worthless to a thief with it); rotate with `gateway keys rotate` (docs/security.md).
# A key given as env:NAME works too. payloads = "off" stores plaintext: never with claim data.
payloads = "on"
key = "file:keys/payload.key"
# previous_keys = ["file:keys/payload-old.key"]   # during a rotation only

[http]
listen = "127.0.0.1:9464"            # /healthz and /metrics; "off" to disable

[console]
# The web console and its JSON API (accounts: gateway users add NAME --role operator).
# Loopback: reach it through a TLS reverse proxy (docs/operations.md), then secure_cookies.
listen = "127.0.0.1:9465"            # "off" to disable
idle_minutes = 30                    # a session ends after this long unused
max_hours = 12                       # and after this long in any case
secure_cookies = false               # true once browsers reach it over HTTPS

[logging]
level = "info"                       # debug | info | warning | error
format = "auto"                      # auto (JSON unless on a terminal) | json | console

# Days that are not business days for SLA rules and business-day poll windows:
# holidays = [2026-12-25, 2027-01-01]

# Alerts by e-mail and/or webhook (docs/operations.md "Alerts"); secrets as file: or env:.
# [alerts]
# unreachable_polls = 3
# [alerts.mail]
# host = "smtp.example.org"
# user = "gateway"
# password = "file:/etc/gateway/secrets/smtp-password"
# from = "gateway@example.org"
# to = ["edi-ops@example.org"]
# [alerts.webhook]
# url = "env:GATEWAY_ALERT_WEBHOOK"
"""

PSAO_TOML = """\
# The PSAO itself: who it is in the envelopes the gateway writes (acknowledgments, the
# per-pharmacy 835s of a central-pay split) and on central-pay 835s paid to it.
name = "YOUR PSAO NAME"
isa_qualifier = "ZZ"
isa_id = "YOURPSAOID"        # the id your PBMs put in ISA08
gs_id = "YOURPSAOID"
# npi = "..."                # lets the splitter recognise 835s paid to the PSAO itself
# tin = "..."
"""

EXAMPLE_PBM_TOML = """\
# One PBM trading partner. Copy this file per PBM (the file name does not matter, the id
# does). The host below is deliberately invalid: put the PBM's real one, then run
# `gateway check` to test the host key, the login and the folders without downloading.
# [inbound] and [outbound] are transport tables (gateway/transport/config.py); relative
# paths in them are relative to this file's folder.
id = "example-pbm"
name = "Example PBM"
isa_qualifier = "ZZ"
isa_id = "EXAMPLEPBM"
validation = "structure"     # structure | tr3

[inbound]                    # where the PBM leaves files for us
type = "sftp"
host = "sftp.example-pbm.invalid"
port = 22
user = "psao"
key_file = "../../keys/example-pbm_ed25519"   # private key: chmod 600, never in git
known_hosts = "../../keys/known_hosts"        # the PBM's pinned host key (keys/README.txt)
remote_dir = "/outbound/835"
# passphrase = "file:../../keys/example-pbm.pass"   # if the key has one: file: or env: only
after_fetch = "archive"      # archive | delete: the PBM's copy, once the store has ours
archive_dir = "/outbound/835/archive"

[outbound]                   # where we leave acknowledgments for the PBM
type = "sftp"
host = "sftp.example-pbm.invalid"
port = 22
user = "psao"
key_file = "../../keys/example-pbm_ed25519"
known_hosts = "../../keys/known_hosts"
remote_dir = "/inbound"

[files]
patterns = ["*.835", "*.edi", "*.txt"]

[schedule]
interval = 300               # seconds between polls
window_start = "05:00"       # optional daily window (gateway.toml timezone)
window_end = "22:00"

[acknowledgment]
kind = "999"                 # none | ta1 | 999, pushed through [outbound]

[sla]
expected_by = "10:00"        # alert when no file has arrived by then
business_days = true
timezone = "America/New_York"
"""

MEMBERS_CSV = (
    "pharmacy_id,name,npi,ncpdp_id,tin,active,destination,formats\n"
    "EXAMPLE1,EXAMPLE PHARMACY (replace me),1999999992,9999991,999999999,false,"
    "folder:/srv/pharmacies/EXAMPLE1/inbox,835|csv\n"
)

KNOWN_HOSTS = """\
# Pinned SSH host keys of the partners' SFTP servers, one line per server, OpenSSH format:
#   [sftp.example-pbm.com]:22 ssh-ed25519 AAAA...
# Get the key from the partner out of band (or with `ssh-keyscan -p PORT HOST` and compare
# its fingerprint, `ssh-keygen -lf FILE`, with what the partner tells you by phone or mail).
# The gateway refuses any server whose key is not listed here.
"""

KEYS_README = """\
Private keys for logging in to partners' SFTP servers live here (or anywhere the partner
files point to). Make one per partner:

    ssh-keygen -t ed25519 -N '' -C psao-gateway -f keys/example-pbm_ed25519
    chmod 600 keys/*_ed25519

Send the partner the .pub file; never the private one. A passphrase-protected key is
supported: see docs/operations.md ("Rotate keys").
"""

FILES = {
    "gateway.toml": GATEWAY_TOML,
    "partners/psao.toml": PSAO_TOML,
    "partners/pbms/example.toml": EXAMPLE_PBM_TOML,
    "partners/members.csv": MEMBERS_CSV,
    "keys/known_hosts": KNOWN_HOSTS,
    "keys/README.txt": KEYS_README,
}


def scaffold(directory: Path, *, force: bool = False) -> list[Path]:
    """Write the example configuration under ``directory``; never overwrite unless forced."""
    targets = {directory / name: text for name, text in FILES.items()}
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise ConfigError(
            f"{len(existing)} file(s) already exist, e.g. {existing[0]}",
            where=str(directory),
            fix="choose an empty directory, or pass --force to overwrite the examples",
        )
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(config=directory / "gateway.toml"), encoding="utf-8")
    (directory / "partners" / "destinations").mkdir(exist_ok=True)
    (directory / "keys").chmod(0o700)
    key = directory / PAYLOAD_KEY
    if not key.exists():  # never replaced, even with --force: the payloads need it
        write_key_file(key)
        targets[key] = ""
    return sorted(targets)
