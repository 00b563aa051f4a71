#!/bin/sh
# Create the secrets compose.yaml reads, once: docker/.env (random passwords and webhook secrets)
# and docker/secrets/netsuite-m2m.pem (the NetSuite M2M key the connector signs with). Existing
# files are kept. Needs openssl. Both are this stack's credentials: keep them out of version control.
set -eu
cd "$(dirname "$0")"
umask 077

random_hex() { openssl rand -hex 24; }
webhook_secret() { printf '["whsec_%s"]' "$(openssl rand -base64 32)"; }

if [ -e .env ]; then
  echo "docker/.env exists: kept"
else
  cat > .env <<ENV
# Secrets of the finsync compose stack, written by docker/init-env.sh. Keep this file private.
POSTGRES_PASSWORD=$(random_hex)
FINSYNC_WEBHOOKS__EXPENSE_SECRETS='$(webhook_secret)'
FINSYNC_WEBHOOKS__BANK_SECRETS='$(webhook_secret)'
FINSYNC_WEBHOOKS__PROCUREMENT_SECRETS='$(webhook_secret)'
FINSYNC_WEBHOOKS__PAYROLL_SECRETS='$(webhook_secret)'
FINSYNC_EXPENSE__CLIENT_SECRET=$(random_hex)
FINSYNC_BANK__CLIENT_SECRET=$(random_hex)
FINSYNC_PROCUREMENT__CLIENT_SECRET=$(random_hex)
FINSYNC_PAYROLL_PROVIDER__CLIENT_SECRET=$(random_hex)
FINSYNC_PAYROLL_PROVIDER__REFRESH_TOKEN=$(random_hex)
FINSYNC_ERP__CERTIFICATE_ID=$(openssl rand -hex 16)
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
