#!/bin/sh
# Renders /etc/nginx/nginx.conf from the template and the environment, then
# runs nginx in the foreground as PID 1.
#   HUEPOOL_UPSTREAMS       space-separated host:port of the huepool replicas
#   HUEPOOL_PROXY_PORT      port nginx listens on (8080)
#   HUEPOOL_MAX_BODY_BYTES  upload limit; keep it equal to the replicas' own
set -eu
: "${HUEPOOL_UPSTREAMS:?set HUEPOOL_UPSTREAMS to the replicas, e.g. \"127.0.0.1:8081 127.0.0.1:8082\"}"
port="${HUEPOOL_PROXY_PORT:-8080}"
# huepool's size syntax (65536, 64KiB, 64MiB, 2GiB; K/M/G are binary too) in nginx's (k/m/g).
max_body="${HUEPOOL_MAX_BODY_BYTES:-64MiB}"
case "$max_body" in
  *[0-9]) ;;
  *KiB|*K) max_body="${max_body%%K*}k" ;;
  *MiB|*M) max_body="${max_body%%M*}m" ;;
  *GiB|*G) max_body="${max_body%%G*}g" ;;
  *) echo "huepool-nginx: HUEPOOL_MAX_BODY_BYTES=$max_body is not a size" >&2; exit 2 ;;
esac
servers=""
for u in $HUEPOOL_UPSTREAMS; do servers="${servers}    server ${u} max_fails=1 fail_timeout=5s;\n"; done
sed -e "s|@SERVERS@|${servers}|" -e "s|@PORT@|${port}|g" -e "s|@MAX_BODY@|${max_body}|g" \
  /etc/nginx/huepool.conf.template > /etc/nginx/nginx.conf
nginx -t -q
exec nginx -g 'daemon off;'
