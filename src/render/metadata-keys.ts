// The operator's SSH key from the cloud's instance metadata, for images started on AWS, GCP or
// DigitalOcean with a key chosen at launch (what cloud-init would do, without cloud-init and its
// Python stack). A oneshot unit runs /usr/lib/bulwark/metadata-keys at boot: it asks the
// link-local metadata service (DigitalOcean, then GCP, then AWS with an IMDSv2 token), keeps the
// lines that are OpenSSH public keys, and adds them to root's ~/.ssh/authorized_keys (root is the
// admin account; see the sshd drop-in). Plain bash (/dev/tcp) and coreutils: no curl in the image.
// No metadata service (QEMU, bare metal): nothing happens, after a few seconds, off the boot path.
import type { TreeFile } from '../vm/host-spec.js';

export const METADATA_KEYS_UNIT = 'bulwark-metadata-keys.service';
export const METADATA_KEYS_SCRIPT = '/usr/lib/bulwark/metadata-keys';

export function renderMetadataKeysScript(): string {
  return `#!/bin/bash
# ${METADATA_KEYS_SCRIPT}: written by Bulwark, run by ${METADATA_KEYS_UNIT} at boot.
# Adds the SSH keys the cloud's instance metadata lists to root's authorized_keys. Environment
# (for tests): BULWARK_METADATA_ADDR (default 169.254.169.254:80), BULWARK_METADATA_KEYS_FILE.
set -u
addr=\${BULWARK_METADATA_ADDR:-169.254.169.254:80}
host=\${addr%:*}
port=\${addr##*:}
out=\${BULWARK_METADATA_KEYS_FILE:-/root/.ssh/authorized_keys}

# get METHOD PATH [HEADER…]: the body of a 200 answer on stdout; non-zero otherwise.
get() {
  local method=$1 path=$2 response status
  shift 2
  response=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "%s %s HTTP/1.0\\r\\nHost: %s\\r\\n" "$2" "$3" "$0" >&3
    for h in "\${@:4}"; do printf "%s\\r\\n" "$h" >&3; done
    printf "\\r\\n" >&3
    cat <&3' "$host" "$port" "$method" "$path" "$@" 2>/dev/null) || return 1
  status=$(printf '%s' "$response" | head -n 1)
  case "$status" in HTTP/1.[01]\\ 200*) ;; *) return 1 ;; esac
  # The body: everything after the first empty line (headers end with CRLF CRLF).
  printf '%s\\n' "$response" | tr -d '\\r' | sed '1,/^$/d'
}

keys=""
if body=$(get GET /metadata/v1/public-keys); then
  provider=DigitalOcean keys=$body
elif body=$(get GET /computeMetadata/v1/instance/attributes/ssh-keys 'Metadata-Flavor: Google'); then
  # GCP lists "user:key"; root is the only account here.
  provider=GCP keys=$(printf '%s\\n' "$body" | sed 's/^[a-z_][a-z0-9_.-]*://')
elif token=$(get PUT /latest/api/token 'X-aws-ec2-metadata-token-ttl-seconds: 60') &&
     body=$(get GET /latest/meta-data/public-keys/0/openssh-key "X-aws-ec2-metadata-token: $token"); then
  provider=AWS keys=$body
else
  echo "bulwark-metadata-keys: no instance metadata service answered: nothing to add"
  exit 0
fi

# Only lines that are OpenSSH public keys, each once.
valid=$(printf '%s\\n' "$keys" | grep -E '^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]+={0,2}( [^[:cntrl:]]*)?$' || true)
if [ -z "$valid" ]; then
  echo "bulwark-metadata-keys: $provider metadata lists no OpenSSH public key"
  exit 0
fi
install -d -m 0700 "$(dirname "$out")"
touch "$out"
added=0
while IFS= read -r k; do
  grep -qxF -- "$k" "$out" && continue
  printf '%s\\n' "$k" >>"$out"
  added=$((added + 1))
done <<<"$valid"
chmod 0600 "$out"
echo "bulwark-metadata-keys: $added key(s) from $provider metadata added to $out"
`;
}

export function renderMetadataKeysUnit(): string {
  return `# /etc/systemd/system/${METADATA_KEYS_UNIT}: written by Bulwark. The SSH keys chosen at launch
# on AWS, GCP or DigitalOcean, from the instance metadata, for root (see ${METADATA_KEYS_SCRIPT}).
# Not on the boot path: nothing waits for it. Skipped under plain QEMU emulation (no metadata).
[Unit]
Description=Add the SSH keys from the cloud's instance metadata
Wants=network-online.target
After=network-online.target
ConditionVirtualization=!qemu

[Service]
Type=oneshot
ExecStart=/bin/bash ${METADATA_KEYS_SCRIPT}
TimeoutStartSec=60

[Install]
WantedBy=multi-user.target
`;
}

export function renderMetadataKeysFiles(): TreeFile[] {
  return [
    { path: METADATA_KEYS_SCRIPT.slice(1), mode: 0o755, content: renderMetadataKeysScript() },
    { path: `etc/systemd/system/${METADATA_KEYS_UNIT}`, mode: 0o644, content: renderMetadataKeysUnit() },
  ];
}
