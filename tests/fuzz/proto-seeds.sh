#!/bin/sh
# tests/fuzz/proto-seeds.sh: writes the seed corpora of fuzz_payload and
# fuzz_envelope from the text messages below (protoc-c --encode), so the
# binary seeds can be read and made again. Run from the repository root.
set -eu
enc() { protoc-c --proto_path=proto --encode="hl.$1" proto/hongling.proto; }
A=0c6a8a4e-2b0e-4f7e-9a53-1d2b3c4d5e6f
I=7d1e2f30-4a5b-4c6d-8e9f-a0b1c2d3e4f5
W=1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9
seeds="AppealReceived|appeal_id: \"$A\" tracking_code: \"HLQ5MBWPRXP5\" channel: \"mailbox\" org_unit: \"cp006\" category: \"parking\" title: \"地锁占用公共车位\" body: \"春江花城地下车库有人用地锁占用公共车位。想请物业代为处理。\" received_at_us: 1767225600000000 lat: 31.3 lon: 117.9 has_location: true mailbox: 17 staff: \"王芳\" written_at_us: 1767139200000000
TriageDecision|appeal_id: \"$A\" item_id: \"$I\" size: \"small\" category: \"parking\" route: \"council\" rule_id: 4 decided_at_us: 1767225601000000 target: \"cp006\"
ItemEscalated|item_id: \"$I\" title: \"泵站\" body: \"雨季小区积水\\n需要泵站\" category: \"flooding\" org_unit: \"cm01\" level: 2 appeal_count: 3 reason: \"large\"
WishPosted|item_id: \"$I\" appeal_id: \"$A\" title: \"代缴水电费\" body: \"独居老人想请人代缴水电费\" org_unit: \"cp005\" category: \"elderly\" points: 10
TaskApproved|wish_id: \"$W\" item_id: \"$I\" claimant: \"mg013\" reviewer: \"cm05\" evidence: \"已代缴水电费，收据已拍照\" approved_at_us: 1767225602000000
PointsAwarded|award_id: \"$W\" account: \"mg013\" amount: 10 reason: \"wish completed\" source_kind: \"wish\" source_id: \"$W\" org_unit: \"cp005\"
ItemResolved|item_id: \"$I\" outcome: \"地锁已拆除\" resolved_by: \"council\" resolved_at_us: 1767225603000000 appeal_ids: \"$A\" appeal_ids: \"$W\"
AppealFeedback|appeal_id: \"$A\" item_id: \"$I\" kind: \"reopen\" reason: \"地锁拆了又装回来了\" at_us: 1767225604000000"
stage_of() {
    case $1 in
    AppealReceived) echo appeal ;; TriageDecision) echo status ;; ItemEscalated) echo alliance ;;
    WishPosted) echo bounty ;; PointsAwarded) echo points ;; AppealFeedback) echo feedback ;;
    *) echo resolution ;;
    esac
}
mkdir -p tests/fuzz/payload/corpus tests/fuzz/envelope/corpus
tmp=$(mktemp)
i=0
printf '%s\n' "$seeds" | while IFS='|' read -r type text; do
    printf '%s' "$text" | enc "$type" >"$tmp"
    { printf "\\$(printf '%03o' "$i")"; cat "$tmp"; } >"tests/fuzz/payload/corpus/$type"
    # The envelope's payload in protoc's text format: every byte as \xNN.
    payload=$(od -An -v -tx1 "$tmp" | tr -d ' \n' | sed 's/\(..\)/\\x\1/g')
    printf 'id: "%s" type: "%s" stage: "%s" trace_id: "%s" producer: "hl-fuzz" created_at_us: 1767225600000000 payload: "%s"' \
        "$W" "$type" "$(stage_of "$type")" "$A" "$payload" | enc Envelope \
        >"tests/fuzz/envelope/corpus/$type"
    i=$((i + 1))
done
rm -f "$tmp"
