#!/usr/bin/env bash
# Start the services the tests use: CUPS with a PDF printer queue named LobbyTestPDF
# (cups-pdf writes each job as a PDF into ~/PDF). Safe to run again.
set -euo pipefail
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
if ! pgrep -x cupsd >/dev/null 2>&1; then
  $SUDO /usr/sbin/cupsd
fi
for _ in $(seq 1 50); do
  lpstat -r 2>/dev/null | grep -q "is running" && break
  sleep 0.2
done
if ! lpstat -p LobbyTestPDF >/dev/null 2>&1; then
  $SUDO lpadmin -p LobbyTestPDF -E -v cups-pdf:/ -P /usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd 2>/dev/null
fi
lpstat -p LobbyTestPDF >/dev/null
