#!/bin/sh
# Generate the example card's prompts (development time only; the WAVs are
# committed). Needs espeak-ng and sox. Output: 8 kHz, mono, 16-bit PCM WAV,
# the format the media layer plays and the card README asks installers for.
#   sh scripts/make-prompts.sh [OUT_DIR]   (default flash-layout/CF0/TicketSMS)
set -eu
OUT=${1:-flash-layout/CF0/TicketSMS}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

# say NAME TEXT: speak TEXT, resample to 8 kHz mono 16-bit, trim lead-in silence,
# normalise to -3 dBFS so prompts are equally loud.
say() {
  espeak-ng -v en-us -s 150 -w "$TMP/$1.raw.wav" "$2"
  sox "$TMP/$1.raw.wav" -r 8000 -c 1 -b 16 -e signed-integer "$TMP/$1.wav" \
    silence 1 0.02 0.5% gain -n -3
}

say announcement "This is the emergency line. This call is recorded. Use it only in an emergency. Press 1 to reach the technician on duty."
say goodbye "No key was pressed. Goodbye."
say cfu-set "You are now in charge. Emergency calls ring your phone first."
say cfu-cleared "Call forwarding cleared. The default technician is in charge."
say error-voice "Sorry, this extension is not known."

# The error prompt starts with three rising tones (like a special information
# tone) so it is recognisable even when the words are not understood.
for f in 950 1400 1800; do
  sox -n -r 8000 -c 1 -b 16 -e signed-integer "$TMP/sit$f.wav" synth 0.3 sine $f vol 0.5
done
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$TMP/gap.wav" trim 0 0.3
sox "$TMP/sit950.wav" "$TMP/sit1400.wav" "$TMP/sit1800.wav" "$TMP/gap.wav" "$TMP/sit.wav"
sox "$TMP/sit.wav" "$TMP/error-voice.wav" "$TMP/error.wav"

for p in announcement goodbye cfu-set cfu-cleared error; do
  cp "$TMP/$p.wav" "$OUT/$p.wav"
  printf '%s: ' "$p.wav"; sox --i -d "$OUT/$p.wav"
done
