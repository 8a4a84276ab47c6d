#!/usr/bin/env bash
# The recipe's prerequisites on Debian (see README.md): PyTorch and ONNX for /usr/bin/python3.
# Installs only what is missing; the unit tests run the recipe's GGUF writer with them.
set -euo pipefail
if /usr/bin/python3 -c "import torch, onnx, numpy" 2>/dev/null; then
  echo "recipe prerequisites: present"
  exit 0
fi
cmd="apt-get install -y --no-install-recommends python3-torch python3-onnx python3-numpy"
if [ "$(id -u)" -ne 0 ]; then
  echo "Run as root:  apt-get update && $cmd" >&2
  exit 1
fi
apt-get update
$cmd
