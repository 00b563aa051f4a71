#!/bin/sh
# Create the secrets compose.yaml reads, once: docker/.env (random passwords, webhook secrets, the
# payload codec's key and the codec server's token) and docker/secrets/netsuite-m2m.pem (the NetSuite
# M2M key the connector signs with). Existing files are kept; a docker/.env from before the codec
# gets its key and token added, once (a new key would leave the encrypted history unreadable).
# Needs openssl. Both are this stack's credentials: keep them out of version control.
set -eu
cd "$(dirname "$0")"
umask 077

random_hex() { openssl rand -hex 24; }
webhook_secret() { printf '["whsec_%s"]' "$(openssl rand -base64 32)"; }
codec_settings() {
  key_id="$(date -u +%Y-%m-%d)-$(openssl rand -hex 2)"
  cat <<CODEC
FINSYNC_TEMPORAL__CODEC__KEYS='{"$key_id": "$(openssl rand -base64 32)"}'
FINSYNC_TEMPORAL__CODEC__ACTIVE_KEY_ID=$key_id
FINSYNC_TEMPORAL__CODEC__SERVER_TOKENS='["$(openssl rand -hex 32)"]'
CODEC
}

if [ -e .env ]; then
  if grep -q '^FINSYNC_TEMPORAL__CODEC__KEYS=' .env; then
    echo "docker/.env exists: kept"
  else
    [ -z "$(tail -c 1 .env)" ] || echo >> .env   # the file may end without a newline
    codec_settings >> .env
    echo "docker/.env exists: kept, the payload codec's key and the codec server's token added"
  fi
else
  cat > .env <<ENV
# Secrets of the finsync compose stack, written by docker/init-env.sh. Keep this file private.
POSTGRES_PASSWORD=$(random_hex)
FINSYNC_WEBHOOKS__EXPENSE_SECRETS='$(webhook_secret)'
FINSYNC_WEBHOOKS__BANK_SECRETS='$(webhook_secret)'
FINSYNC_WEBHOOKS__PROCUREMENT_SECRETS='$(webhook_secret)'
FINSYNC_WEBHOOKS__S4HANA_SECRETS='$(webhook_secret)'
FINSYNC_EXPENSE__CLIENT_SECRET=$(random_hex)
FINSYNC_BANK__CLIENT_SECRET=$(random_hex)
FINSYNC_PROCUREMENT__CLIENT_SECRET=$(random_hex)
FINSYNC_S4HANA__PASSWORD=$(random_hex)
FINSYNC_WEBHOOKS__PAYROLL_SECRETS='$(webhook_secret)'
FINSYNC_PAYROLL_PROVIDER__CLIENT_SECRET=$(random_hex)
FINSYNC_PAYROLL_PROVIDER__REFRESH_TOKEN=$(random_hex)
FINSYNC_ERP__CERTIFICATE_ID=$(openssl rand -hex 16)
$(codec_settings)
ENV
  echo "docker/.env written"
fi

mkdir -p secrets
if [ -e secrets/netsuite-m2m.pem ]; then
  echo "docker/secrets/netsuite-m2m.pem exists: kept"
else
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out secrets/netsuite-m2m.pem
  # The containers' user reads it through the bind mount; the folder stays private to you.
  chmod 644 secrets/netsuite-m2m.pem
  echo "docker/secrets/netsuite-m2m.pem written"
fi
