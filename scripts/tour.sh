set -e
F=${FEDLEDGER:-fedledger}
$F chain up --port 8599 --state chain.json > chain.log 2>&1 &
CHAIN=$!; trap "kill -INT $CHAIN 2>/dev/null" EXIT
for _ in $(seq 60); do grep -q "\[0\]" chain.log && break; sleep 0.5; done
KEY0=$(grep '\[0\]' chain.log | awk '{print $3}')
export FEDLEDGER_PRIVATE_KEY=$KEY0
$F deploy --rpc http://127.0.0.1:8599
$F task create --rounds 2 --durations 25,10,10 --join-seconds 25 --bounty-eth 1
$F simulate --preset shoppers --rounds 1 --quiet --write-shards shards > /dev/null
export FEDLEDGER_KEY_PASSWORD=tour
for i in 1 2 3; do
  FEDLEDGER_PRIVATE_KEY=$(grep "\[$i\]" chain.log | awk '{print $3}') $F key import --out node$i.json
done
unset FEDLEDGER_PRIVATE_KEY
for i in 1 2 3; do
  $F node run --task 1 --key node$i.json --data shards/region-$i.csv > node$i.log 2>&1 & PIDS="$PIDS $!"
done
wait $PIDS || true
$F audit 1 --replay | tail -3
kill -INT $CHAIN; wait $CHAIN
ls -la chain.json
