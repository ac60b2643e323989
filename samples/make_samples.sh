#!/usr/bin/env bash
# Builds the example calls in samples/ from espeak-ng (Mandarin, pinyin with tone digits)
# and sox. Each call shows one fault of the house standard; see samples/README.md.
# Needs: espeak-ng, sox (apt-get install -y espeak-ng sox). Deterministic for a given
# espeak-ng and sox version.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

VOICE_AGENT="cmn-latn-pinyin"
VOICE_CUSTOMER="cmn-latn-pinyin+f3"
# espeak-ng words per minute for the agent; each pinyin syllable is a "word".
AGENT_WPM=105

GREETING="nin2 hao3, huan1 ying2 zhi4 dian4 zhong1 guo2 yi2 dong4, wo3 shi4 yi1 ling2 yi1 hao4 ke4 fu2, qing3 wen4 you3 shen2 me5 ke3 yi3 bang1 nin2"
ANSWER="hao3 de5, qing3 nin2 shao1 deng3, wo3 ma3 shang4 wei4 nin2 cha2 xun2 yi2 xia4 nin2 de5 hua4 fei4 yu2 e2"
ANSWER2="gan3 xie4 nin2 de5 nai4 xin1 deng3 dai4, nin2 ben3 yue4 de5 hua4 fei4 yu2 e2 shi4 san1 shi2 er4 yuan2"
CLOSING="qing3 wen4 hai2 you3 qi2 ta1 ke3 yi3 bang1 nin2 de5 ma5? gan3 xie4 nin2 de5 lai2 dian4, zai4 jian4"
ASK="ni3 hao3, wo3 xiang3 cha2 yi2 xia4 wo3 de5 hua4 fei4"
ASK2="hao3 de5, xie4 xie4"
INTERRUPT="bu2 yong4 le5, wo3 zhi3 xiang3 zhi1 dao4 yu2 e2"

# say VOICE SPEED(wpm) TEXT OUT RATE: speech resampled to RATE
say() {
  espeak-ng -v "$1" -s "$2" -w "$work/raw.wav" "$3"
  sox -q "$work/raw.wav" -r "$5" -c 1 -b 16 "$4" silence 1 0.01 0.1% reverse silence 1 0.01 0.1% reverse
}
# sil SECONDS OUT RATE
sil() { sox -q -n -r "$3" -c 1 -b 16 "$2" trim 0 "$1"; }
# track OUT RATE PART...: concatenate parts into one mono track
track() { local out=$1 rate=$2; shift 2; sox -q "$@" -r "$rate" -c 1 -b 16 "$out"; }
# pad OUT SECONDS: extend a track with silence to a length
pad_to() { local len; len=$(soxi -D "$1"); sox -q "$1" "$work/padded.wav" pad 0 "$(echo "$2 - $len" | bc -l | sed 's/^-.*/0/')"; mv "$work/padded.wav" "$1"; }
# noise OUT SECONDS RATE VOL: pink line noise
noise() { sox -q -n -r "$3" -c 1 -b 16 "$1" synth "$2" pinknoise vol "$4"; }
# phone IN OUT: telephone band 300-3400 Hz
phone() { sox -q "$1" "$2" sinc 300-3400; }
# stereo AGENT CUSTOMER OUT ENCODING...: agent left, customer right, with line noise
stereo() {
  local a=$1 c=$2 out=$3; shift 3
  local len; len=$(soxi -D "$a"); local lc; lc=$(soxi -D "$c")
  len=$(echo "if ($len > $lc) $len else $lc" | bc -l)
  pad_to "$a" "$len"; pad_to "$c" "$len"
  noise "$work/n1.wav" "$len" 8000 0.002; noise "$work/n2.wav" "$len" 8000 0.002
  sox -q -m "$a" "$work/n1.wav" "$work/a_n.wav"; sox -q -m "$c" "$work/n2.wav" "$work/c_n.wav"
  phone "$work/a_n.wav" "$work/a_p.wav"; phone "$work/c_n.wav" "$work/c_p.wav"
  sox -q -M "$work/a_p.wav" "$work/c_p.wav" "$@" "$out"
}

R=8000
mkdir -p "张伟" li_na wang_fang

# 1. A compliant call: greets at 0.8 s, about 120 syllables a minute, answers promptly.
say $VOICE_AGENT $AGENT_WPM "$GREETING" "$work/g.wav" $R
say $VOICE_AGENT $AGENT_WPM "$ANSWER" "$work/a1.wav" $R
say $VOICE_AGENT $AGENT_WPM "$ANSWER2" "$work/a2.wav" $R
say $VOICE_AGENT $AGENT_WPM "$CLOSING" "$work/cl.wav" $R
say $VOICE_CUSTOMER 150 "$ASK" "$work/q1.wav" $R
say $VOICE_CUSTOMER 150 "$ASK2" "$work/q2.wav" $R
len() { soxi -D "$1"; }
# Build both tracks on one timeline: agent greeting, customer question, agent answer ...
sil 0.8 "$work/s08.wav" $R; sil 0.7 "$work/s07.wav" $R; sil 1.0 "$work/s10.wav" $R
sil "$(len "$work/q1.wav")" "$work/q1s.wav" $R
sil "$(len "$work/q2.wav")" "$work/q2s.wav" $R
sil "$(len "$work/g.wav")" "$work/gs.wav" $R
sil "$(echo "$(len "$work/a1.wav") + 1.0 + $(len "$work/a2.wav")" | bc -l)" "$work/a12s.wav" $R
track "$work/agent.wav" $R "$work/s08.wav" "$work/g.wav" "$work/s07.wav" "$work/q1s.wav" "$work/s07.wav" \
  "$work/a1.wav" "$work/s10.wav" "$work/a2.wav" "$work/s07.wav" "$work/q2s.wav" "$work/s07.wav" "$work/cl.wav" "$work/s08.wav"
track "$work/cust.wav" $R "$work/s08.wav" "$work/gs.wav" "$work/s07.wav" "$work/q1.wav" "$work/s07.wav" \
  "$work/a12s.wav" "$work/s07.wav" "$work/q2.wav"
stereo "$work/agent.wav" "$work/cust.wav" "张伟/2026-11-02_compliant.wav" -e u-law -b 8

# 2. Dead air: 4.5 s in which nobody speaks while the agent "looks something up".
sil 4.5 "$work/s45.wav" $R
track "$work/agent.wav" $R "$work/s08.wav" "$work/g.wav" "$work/s07.wav" "$work/q1s.wav" "$work/s07.wav" \
  "$work/a1.wav" "$work/s45.wav" "$work/a2.wav" "$work/s07.wav" "$work/q2s.wav" "$work/s07.wav" "$work/cl.wav" "$work/s08.wav"
sil "$(echo "$(len "$work/a1.wav") + 4.5 + $(len "$work/a2.wav")" | bc -l)" "$work/a12s.wav" $R
track "$work/cust.wav" $R "$work/s08.wav" "$work/gs.wav" "$work/s07.wav" "$work/q1.wav" "$work/s07.wav" \
  "$work/a12s.wav" "$work/s07.wav" "$work/q2.wav"
stereo "$work/agent.wav" "$work/cust.wav" "张伟/2026-11-03_dead_air.wav" -e u-law -b 8

# 3. A fast talker (mono, agent and customer mixed, 16 kHz PCM): far above 140 a minute.
R16=16000
say $VOICE_AGENT 260 "$GREETING" "$work/fg.wav" $R16
say $VOICE_AGENT 260 "$ANSWER" "$work/fa1.wav" $R16
say $VOICE_AGENT 260 "$ANSWER2" "$work/fa2.wav" $R16
say $VOICE_AGENT 260 "$CLOSING" "$work/fcl.wav" $R16
say $VOICE_CUSTOMER 150 "$ASK" "$work/fq1.wav" $R16
sil 0.6 "$work/f06.wav" $R16; sil 0.5 "$work/f05.wav" $R16
track "$work/mix.wav" $R16 "$work/f06.wav" "$work/fg.wav" "$work/f05.wav" "$work/fq1.wav" "$work/f05.wav" \
  "$work/fa1.wav" "$work/f05.wav" "$work/fa2.wav" "$work/f05.wav" "$work/fcl.wav" "$work/f06.wav"
sox -q "$work/mix.wav" -b 16 "li_na/2026-11-02_fast_talker.wav" vol -6dB

# 4. A late greeting: 3.5 s of silence after pickup (mono mixed, 16 kHz FLAC).
sil 3.5 "$work/f35.wav" $R16
say $VOICE_AGENT $AGENT_WPM "$GREETING" "$work/lg.wav" $R16
say $VOICE_AGENT $AGENT_WPM "$ANSWER" "$work/la1.wav" $R16
track "$work/mix.wav" $R16 "$work/f35.wav" "$work/lg.wav" "$work/f05.wav" "$work/fq1.wav" "$work/f06.wav" \
  "$work/la1.wav" "$work/f06.wav"
sox -q "$work/mix.wav" -b 16 "li_na/2026-11-03_late_greeting.flac" vol -6dB

# 5. A quiet agent: 22 dB below the others (stereo, A-law).
track "$work/agent.wav" $R "$work/s08.wav" "$work/g.wav" "$work/s07.wav" "$work/q1s.wav" "$work/s07.wav" \
  "$work/a1.wav" "$work/s10.wav" "$work/a2.wav" "$work/s08.wav"
sil "$(echo "$(len "$work/a1.wav") + 1.0 + $(len "$work/a2.wav")" | bc -l)" "$work/a12s.wav" $R
track "$work/cust.wav" $R "$work/s08.wav" "$work/gs.wav" "$work/s07.wav" "$work/q1.wav" "$work/s07.wav" "$work/a12s.wav"
sox -q "$work/agent.wav" "$work/agent_q.wav" vol -22dB
stereo "$work/agent_q.wav" "$work/cust.wav" "wang_fang/2026-11-02_quiet.wav" -e a-law -b 8

# 6. Overtalk: the agent starts answering while the customer is still talking, and the
#    customer cuts in on the agent's answer (stereo, mu-law).
say $VOICE_CUSTOMER 150 "$INTERRUPT" "$work/q3.wav" $R
q1=$(len "$work/q1.wav"); g=$(len "$work/g.wav"); a1=$(len "$work/a1.wav")
t_q1=$(echo "0.8 + $g + 0.6" | bc -l)
t_a1=$(echo "$t_q1 + $q1 - 2.5" | bc -l)        # agent starts 2.5 s before the customer ends
t_q3=$(echo "$t_a1 + $a1 - 3.0" | bc -l)        # customer cuts in 3 s before the agent ends
sil "$(echo "$t_a1 - 0.8 - $g" | bc -l)" "$work/gap1.wav" $R
track "$work/agent.wav" $R "$work/s08.wav" "$work/g.wav" "$work/gap1.wav" "$work/a1.wav" "$work/s10.wav" "$work/cl.wav" "$work/s08.wav"
sil "$t_q1" "$work/c0.wav" $R
sil "$(echo "$t_q3 - $t_q1 - $q1" | bc -l)" "$work/c1.wav" $R
track "$work/cust.wav" $R "$work/c0.wav" "$work/q1.wav" "$work/c1.wav" "$work/q3.wav"
stereo "$work/agent.wav" "$work/cust.wav" "wang_fang/2026-11-04_overtalk.wav" -e u-law -b 8

# Transcripts beside the recordings (exact mode): what the rate check judges. On stereo
# calls the agent's words; on mixed mono calls everyone's.
G="您好，欢迎致电中国移动，我是一零一号客服，请问有什么可以帮您？"
A1="好的，请您稍等，我马上为您查询一下您的话费余额。"
A2="感谢您的耐心等待，您本月的话费余额是三十二元。"
CL="请问还有其他可以帮您的吗？感谢您的来电，再见。"
Q1="你好，我想查一下我的话费。"
printf '%s\n' "$G" "$A1" "$A2" "$CL" > "张伟/2026-11-02_compliant.txt"
printf '%s\n' "$G" "$A1" "$A2" "$CL" > "张伟/2026-11-03_dead_air.txt"
printf '%s\n' "$G" "$Q1" "$A1" "$A2" "$CL" > "li_na/2026-11-02_fast_talker.txt"
printf '%s\n' "$G" "$Q1" "$A1" > "li_na/2026-11-03_late_greeting.txt"
printf '%s\n' "$G" "$A1" "$A2" > "wang_fang/2026-11-02_quiet.txt"
printf '%s\n' "$G" "$A1" "$CL" > "wang_fang/2026-11-04_overtalk.txt"

ls -la "张伟" li_na wang_fang
