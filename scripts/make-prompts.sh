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

# The announcement ends with "press": the player adds the digit prompt of the
# card's ProceedKey.txt (hotline/spoken.ts), so the words follow the card.
say announcement "This is the emergency line. This call is recorded. Use it only in an emergency. To reach the technician on duty, press"
say goodbye "No key was pressed. Goodbye."
say hold "All technicians are busy. Please hold."
say message "Nobody could be reached. Please leave a message after the tone; hang up when you are done."
say goodbye-message "Thank you. Your message has been recorded. Goodbye."
say cfu-set "You are now in charge. Emergency calls ring your phone first."
say cfu-cleared "Call forwarding cleared. The default technician is in charge."
say error-voice "Sorry, this extension is not known."

# Pieces joined at run time (hotline/spoken.ts): "Emergency call from" <the
# caller's number digit by digit> "Press" <key> "to accept." Trailing silence
# is trimmed too, so the player sets the gaps.
piece() {
  say "$1" "$2"
  sox "$TMP/$1.wav" "$TMP/$1.trim.wav" reverse silence 1 0.02 0.5% reverse
  mv "$TMP/$1.trim.wav" "$TMP/$1.wav"
}
piece call-from "Emergency call from"
piece press "Press"
piece to-accept "to accept."
DIGITS="0:zero 1:one 2:two 3:three 4:four 5:five 6:six 7:seven 8:eight 9:nine star:star hash:hash"
for d in $DIGITS; do piece "digit-${d%%:*}" "${d#*:}"; done

# The error prompt starts with three rising tones (like a special information
# tone) so it is recognisable even when the words are not understood.
for f in 950 1400 1800; do
  sox -n -r 8000 -c 1 -b 16 -e signed-integer "$TMP/sit$f.wav" synth 0.3 sine $f vol 0.5
done
sox -n -r 8000 -c 1 -b 16 -e signed-integer "$TMP/gap.wav" trim 0 0.3
sox "$TMP/sit950.wav" "$TMP/sit1400.wav" "$TMP/sit1800.wav" "$TMP/gap.wav" "$TMP/sit.wav"
sox "$TMP/sit.wav" "$TMP/error-voice.wav" "$TMP/error.wav"

NAMES="announcement goodbye cfu-set cfu-cleared error hold message goodbye-message call-from press to-accept"
for d in $DIGITS; do NAMES="$NAMES digit-${d%%:*}"; done
for p in $NAMES; do
  cp "$TMP/$p.wav" "$OUT/$p.wav"
  printf '%s: ' "$p.wav"; sox --i -d "$OUT/$p.wav"
done
